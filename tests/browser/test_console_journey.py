"""The console end to end, as its users meet it: `kurz run` (what `make run` runs) from a
fresh folder, then Chromium signs in with the credentials it printed, makes a tag and a
link with a rule and the tag, follows the short link at the redirector (the rule sends
it), sees the click in the link's statistics, downloads the QR code and decodes it to
the short URL, revokes the printed API key (which the API then refuses) and signs out."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import zxingcpp
from kurz.dev.servers import free_port
from PIL import Image
from playwright.async_api import Browser, Page, expect

from tests.support.waiting import wait_for

DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


class RunningStack:
    def __init__(self, folder: Path, process: subprocess.Popen[bytes], edge: str) -> None:
        self.folder, self.process, self.edge = folder, process, edge

    @property
    def printed(self) -> str:
        return (self.folder / "run.out").read_text()

    def line(self, start: str) -> list[str]:
        (found,) = [line for line in self.printed.splitlines() if line.startswith(start)]
        return found.split()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("console-journey")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    for service in ("MANAGEMENT", "REDIRECTOR", "AGGREGATOR", "WEBHOOK_WORKER"):
        env[f"KURZ_DEV_{service}_PORT"] = str(free_port())
    edge = f"127.0.0.1:{env['KURZ_DEV_REDIRECTOR_PORT']}"
    env["KURZ_DEFAULT_DOMAIN"] = edge  # short URLs that reach this stack's redirector
    out, err = (folder / "run.out").open("wb"), (folder / "run.err").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "kurz.cli", "run"], cwd=folder, env=env, stdout=out, stderr=err
    )
    try:
        yield RunningStack(folder, process, edge)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(90)


async def _click_counted(page: Page, stats_url: str) -> bool:
    await page.goto(stats_url)
    total = await page.locator("#total-clicks").inner_text()
    return total.strip() == "1"


async def test_a_person_manages_a_link_from_sign_in_to_sign_out(
    stack: RunningStack, browser: Browser, landing: str
) -> None:
    await wait_for(lambda: "kurz is running" in stack.printed, 180, "kurz run is up")
    label, console_word, url, email, password = stack.line("web console")
    assert (label, console_word) == ("web", "console")
    api_key = stack.line("API key")[-1]
    api = url.removesuffix("/console")

    # Headless Chromium names itself in its User-Agent, and the statistics leave bots out:
    # the browser a person uses.
    context = await browser.new_context(accept_downloads=True, user_agent=DESKTOP_CHROME)
    page = await context.new_page()
    await page.goto(url)
    await expect(page).to_have_url(re.compile(r"/console/sign-in"))
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Links")).to_be_visible()

    # A tag, from the tags page.
    await page.get_by_role("link", name="Tags").click()
    await page.get_by_label("New tag").fill("spring-campaign")
    await page.get_by_role("button", name="Create tag").click()
    await expect(page.get_by_role("textbox", name="Name")).to_have_value("spring-campaign")

    # A link whose platform rule sends Linux visitors (this Chromium) elsewhere.
    await page.get_by_role("link", name="Links", exact=True).click()
    await page.get_by_role("link", name="New link").click()
    await page.get_by_label("Destination", exact=True).fill(f"{landing}/everyone")
    await page.get_by_label("Slug").fill("spring")
    await page.get_by_label("Rule 1: matches").select_option("platform")
    await page.locator("#rule-matches-1").fill("linux")
    await page.locator("#rule-url-1").fill(f"{landing}/linux")
    await page.get_by_label("spring-campaign").check()
    await page.get_by_role("button", name="Create link").click()
    await expect(page.get_by_role("status")).to_have_text("The link is created.")
    short_url = await page.locator("#short-url").inner_text()
    assert short_url == f"http://{stack.edge}/spring"
    await expect(page.get_by_label("spring-campaign")).to_be_checked()
    link_page = page.url.split("?")[0]

    # The visit: the rule decides, at the redirector.
    visitor = await context.new_page()
    await visitor.goto(short_url)
    assert visitor.url == f"{landing}/linux"
    await visitor.close()

    # The click reaches the link's statistics once the aggregator has it.
    stats_url = f"{link_page}/stats"
    await wait_for(lambda: _click_counted(page, stats_url), 60, "the click in its statistics", 1)

    # The QR code, downloaded as PNG, carries the short URL (marked as a scan).
    await page.goto(link_page)
    await page.get_by_label("Format").select_option("png")
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download").click()
    download = await downloading.value
    image = Image.open(io.BytesIO(Path(await download.path()).read_bytes()))
    (decoded,) = zxingcpp.read_barcodes(image)
    assert decoded.text.split("?")[0] == short_url

    # The printed API key works, is revoked here, and is refused from then on.
    bearer = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=api, headers=bearer) as client:
        assert (await client.get("/api/v1/links")).status_code == 200
        await page.get_by_role("link", name="API keys").click()
        page.once("dialog", lambda dialog: dialog.accept())
        await page.get_by_role(
            "button", name=re.compile(f"Revoke {re.escape(api_key[:11])}")
        ).click()
        await expect(page.get_by_role("status")).to_contain_text("The key is revoked")
        assert (await client.get("/api/v1/links")).status_code == 401

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/console/sign-in"))
    await page.goto(link_page)
    await expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
    await context.close()
