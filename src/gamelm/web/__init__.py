"""What the web pages of the API server and of the Game Boy dashboard share: their static files
(`STATIC`) and a uvicorn server run in a background thread (`gamelm.web.server`)."""

from pathlib import Path

STATIC = Path(__file__).parent / "static"
