"""What the browser tests share: driving the web chat widget in a real Chromium page."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 60_000
BOT = "[data-testid=chat-bot-message]"
AGENT_REPLY = "[data-testid=chat-agent-message]"
# shop/demo_orders.json: headphones delivered two days ago, rule Q1
HEADPHONES_ORDER = "6201458839270153"
HEADPHONES_PHONE_LAST4 = "4086"


def count(page, selector: str) -> int:
    return page.locator(selector).count()


def wait_for_new_text(page, selector: str, before: int, needle: str) -> None:
    """Wait until one of the elements after the first `before` contains `needle`."""
    page.wait_for_function(
        """([selector, before, needle]) => Array.from(document.querySelectorAll(selector))
              .slice(before).some(node => node.textContent.includes(needle))""",
        arg=[selector, before, needle],
        timeout=TIMEOUT_MS,
    )


def buyer_says(page, text: str, expect: str) -> None:
    before = count(page, BOT)
    page.fill("[data-testid=chat-input]", text)
    page.press("[data-testid=chat-input]", "Enter")
    wait_for_new_text(page, BOT, before, expect)


def shop_and_console(browser):
    """A buyer's shop page and an agent's console page, each in its own browser context (its
    own cookies), and the list their script errors are collected in."""
    buyer_context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    agent_context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    shop, console = buyer_context.new_page(), agent_context.new_page()
    errors: list = []
    shop.on("pageerror", lambda error: errors.append(f"shop: {error}"))
    console.on("pageerror", lambda error: errors.append(f"console: {error}"))
    return shop, console, errors
