"""The web pages in headless Chromium (Debian's chromium and chromium-driver, installed by
`make test`): a hand played by clicking, the training dashboard drawing a run's curves, and the
strategy grid. Screenshots are saved under ``artifacts/screenshots`` (or $GAMELM_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.live_server import live_server

from gamelm.agents.registry import make_agent
from gamelm.runs.registry import Registry
from gamelm.serving.app import create_app

TOKEN = "browser-token"
ARTIFACTS = Path(os.environ.get("GAMELM_ARTIFACTS", "artifacts")) / "screenshots"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    assert Path(driver_path).exists(), "install Debian's chromium and chromium-driver (make test)"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    reg = Registry(runs)
    reg.start("demo-run", str(runs / "demo-run"), {"lr": 0.001})
    for step in range(1, 9):
        hands = step * 4096
        reg.log(
            "demo-run",
            hands,
            {
                "charts/hands_per_s": 5000 + 100 * step,
                "losses/policy": 1 / step,
                "losses/value": 2 / step,
                "eval/bb_per_100": 20.0 * step,
                "eval/bb_per_100_ci95": 30.0,
                "eval/tag/bb_per_100": 10.0 * step,
                "eval/tag/ci95": 25.0,
            },
        )
    reg.checkpoint("demo-run", 4 * 4096, str(runs / "demo-run" / "ckpt-16384.safetensors"))
    app = create_app(
        {"calling-station": make_agent("calling-station"), "tag": make_agent("tag")},
        token=TOKEN,
        runs_dir=runs,
    )
    with live_server(app) as url:
        yield url


def wait_for(driver, css: str, timeout: float = 30):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def test_play_a_hand_by_clicking(browser, site):
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/play#token={TOKEN}")
    wait_for(browser, "#me .card")  # the table is drawn: the human's two cards
    assert len(browser.find_elements(By.CSS_SELECTOR, "#me .card:not(.back)")) == 2
    browser.save_screenshot(str(ARTIFACTS / "play-start.png"))
    for _ in range(40):  # check or call down: the calling station never folds
        if browser.find_elements(By.ID, "next-hand"):
            break
        button = wait_for(
            browser,
            "#buttons button[data-action='check'], #buttons button[data-action='call'], #next-hand",
        )
        button.click()
        browser.implicitly_wait(0.2)
    result = wait_for(browser, "#result").text
    assert result.startswith(("You won", "You lost"))
    board = browser.find_elements(By.CSS_SELECTOR, "#board .card")
    assert len(board) == 5  # called down to the river: showdown
    shown = browser.find_elements(By.CSS_SELECTOR, "#opponents .card:not(.back)")
    assert len(shown) == 2  # the bot's cards are shown at showdown
    history = browser.find_element(By.ID, "history").text
    assert 'variant = "NT"' in history and "finishing_stacks" in history
    assert browser.find_element(By.ID, "error").text == ""
    browser.save_screenshot(str(ARTIFACTS / "play-showdown.png"))
    browser.find_element(By.ID, "next-hand").click()
    wait_for(browser, "#buttons button[data-action]")
    assert "hand #2" in browser.find_element(By.ID, "pot").text


def test_an_illegal_raise_shows_the_reason(browser, site):
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/play#token={TOKEN}")
    amount = wait_for(browser, "#amount")
    amount.clear()
    amount.send_keys("1")
    browser.find_element(By.ID, "custom").click()
    error = wait_for(browser, "#error")
    browser.implicitly_wait(1)
    assert "minimum raise" in error.text


def test_the_dashboard_draws_the_run(browser, site):
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/dashboard#token={TOKEN}")
    wait_for(browser, "#charts svg polyline")
    keys = {p.get_attribute("data-key") for p in browser.find_elements(By.CSS_SELECTOR, "polyline")}
    assert {"charts/hands_per_s", "eval/bb_per_100", "losses/policy", "eval/tag/bb_per_100"} <= keys
    assert browser.find_elements(By.CSS_SELECTOR, "#charts polygon")  # the CI band
    rows = browser.find_element(By.ID, "evaluation").text
    assert "tag" in rows and "80.0" in rows and "[55.0, 105.0]" in rows
    assert "ckpt-16384" in browser.find_element(By.ID, "checkpoints").text
    browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))


def test_the_strategy_grid(browser, site):
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/strategy#token={TOKEN}")
    wait_for(browser, ".cell[data-class='AA']")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".cell")) == 169
    assert "calling-station" in browser.find_element(By.ID, "shares").text
    browser.save_screenshot(str(ARTIFACTS / "strategy.png"))


def test_the_game_boy_dashboard(browser, tmp_path, monkeypatch):
    """The Game Boy page while a hybrid run plays the generated ROM: the live screen, the stats,
    the reward curves and the LLM's latest decision."""
    import threading

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from tests.openai_server import LoopbackLM

    from gamelm.gameboy.hybrid import HybridConfig, HybridRunner
    from gamelm.gameboy.monitor import Monitor, create_monitor_app
    from gamelm.gameboy.testrom import build_test_rom
    from gamelm.web.server import BackgroundServer

    monkeypatch.setenv("GAMELM_RUNS", str(tmp_path / "runs"))
    rom = tmp_path / "rom" / "test.gbc"
    rom.parent.mkdir()
    rom.write_bytes(build_test_rom("PM_CRYSTAL"))
    monitor = Monitor()
    plan = '{"buttons": ["right", "down"], "reason": "explore the room"}'
    with LoopbackLM(lambda m: plan) as lm, BackgroundServer(create_monitor_app(monitor)) as web:
        cfg = HybridConfig(rom=str(rom), actions=100_000, allow_any_rom=True, llm_url=lm.url,
                           log_every=20, use_dqn=False, checkpoint_every=0)  # fmt: skip
        runner = HybridRunner(cfg, tmp_path / "run", log=None, monitor=monitor)
        thread = threading.Thread(target=runner.run)
        thread.start()
        try:
            browser.get(web.url + "/")
            wait_for(browser, "#charts svg polyline")
            wait_for(browser, "#stats tr[data-key='actions']")
            WebDriverWait(browser, 30).until(
                lambda d: d.execute_script(
                    "const i = document.getElementById('screen');"
                    "return i.complete && i.naturalWidth === 160 && i.naturalHeight === 144;"
                )
            )
            WebDriverWait(browser, 30).until(
                lambda d: "explore the room" in d.find_element(By.ID, "decision").text
            )
            keys = {
                p.get_attribute("data-key")
                for p in browser.find_elements(By.CSS_SELECTOR, "polyline")
            }
            assert {"total", "explore", "level", "badge"} <= keys
            WebDriverWait(browser, 30).until(
                lambda d: "calls" in d.find_element(By.ID, "summary").text
            )
            summary = browser.find_element(By.ID, "summary").text
            assert "where" in summary and "party levels" in summary and "no Pokemon yet" in summary
            browser.find_element(By.CSS_SELECTOR, "details summary").click()
            stats = browser.find_element(By.ID, "stats").text
            assert "llm_calls" in stats and "game.map_name" in stats
            assert "Location: " in browser.find_element(By.ID, "decision").text
            browser.save_screenshot(str(ARTIFACTS / "gameboy.png"))
        finally:
            runner.request_stop()
            thread.join(timeout=60)
