"""Request bodies of the HTTP API (pydantic), each field documented for the OpenAPI page."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gamelm.poker.rules import MAX_SEATS, MIN_SEATS


class ActionRecord(BaseModel):
    """One action of the hand so far; the blinds are posted by the rules, not listed."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["fold", "check", "call", "bet", "raise", "all-in"]
    to: int | None = Field(None, ge=0, description="street total after a bet or raise, in chips")
    seat: int | None = Field(
        None, ge=0, le=MAX_SEATS - 1, description="who acts (checked when given)"
    )


class ActRequest(BaseModel):
    """A decision: a game state, or a PHH hand prefix whose last player to act is the hero."""

    model_config = ConfigDict(extra="forbid")
    agent: str | None = Field(None, description="a served agent's name (default: the first)")
    seed: int | None = Field(None, ge=0, description="seeds the agent's draws and unknown cards")
    phh: str | None = Field(None, max_length=20_000, description="PHH text of the hand so far")
    seats: int | None = Field(None, ge=MIN_SEATS, le=MAX_SEATS)
    button: int | None = Field(None, ge=0, le=MAX_SEATS - 1)
    blinds: list[int] | None = Field(None, min_length=2, max_length=2, description="[sb, bb]")
    ante: int = Field(0, ge=0)
    stacks: list[Annotated[int, Field(ge=1, le=10**9)]] | None = Field(
        None, max_length=10, description="chips at the hand's start"
    )
    hero: int | None = Field(None, ge=0, le=MAX_SEATS - 1, description="the seat asking (to act)")
    hole_cards: str | None = Field(None, max_length=8, examples=["AsKd"])
    board: str = Field("", max_length=16, examples=["Kh7d2c"])
    actions: list[ActionRecord] = Field(default_factory=list, max_length=400)

    @model_validator(mode="after")
    def _one_kind(self) -> ActRequest:
        state = ("seats", "button", "blinds", "stacks", "hero", "hole_cards")
        if self.phh is not None:
            given = [f for f in state if getattr(self, f) is not None]
            if given or self.actions or self.board:
                raise ValueError("give either 'phh' or a state (seats, button, ...), not both")
        else:
            missing = [f for f in state if getattr(self, f) is None]
            if missing:
                raise ValueError(f"a state needs {', '.join(missing)} (or give 'phh')")
        return self


class TableRequest(BaseModel):
    """A new table for a person against a served agent."""

    model_config = ConfigDict(extra="forbid")
    agent: str | None = None
    seats: int = Field(2, ge=MIN_SEATS, le=MAX_SEATS)
    human_seat: int = Field(0, ge=0, le=MAX_SEATS - 1)
    blinds: list[int] = Field([1, 2], min_length=2, max_length=2)
    stack: int = Field(200, ge=1, le=10**9, description="every seat's chips at each hand's start")
    seed: int | None = Field(None, ge=0)


class HumanAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["fold", "check", "call", "bet", "raise", "all-in"]
    to: int | None = Field(None, ge=0)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list | None = None


class ChatRequest(BaseModel):
    """The fields of an OpenAI chat completion request that gamelm reads (others are allowed
    and ignored: temperature, max_tokens, ...)."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage] = Field(min_length=1, max_length=256)
    n: int = Field(1, ge=1, le=1)
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=100)
    seed: int | None = Field(None, ge=0)
