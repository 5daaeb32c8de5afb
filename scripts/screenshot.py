#!/usr/bin/env python3
"""Full-page PNG screenshots of local HTML files with headless Chromium, standard library only.

    python3 scripts/screenshot.py [--chromium PATH] PAGE.html WIDTH light|dark OUT.png [PAGE WIDTH SCHEME OUT ...]

Talks to Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe), so it can
emulate a viewport width (a phone below 500 px), `prefers-color-scheme`, and capture the whole
page height rather than a fixed window. Used by scripts/screenshots.sh.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile


class Browser:
    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="balance-report-chromium-")
        to_browser_read, self.to_browser = os.pipe()
        self.from_browser, from_browser_write = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4.
        def wire():
            # Move both ends out of the way first, so neither is clobbered by the other's dup2.
            reader = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            writer = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(reader, 3)
            os.dup2(writer, 4)
        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--mute-audio",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "about:blank"],
            preexec_fn=wire, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.next_id = 0
        self.buffer = b""
        self.events = []

    def _read_message(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, session=None, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method, session):
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self.events[index]
                    return event
            self.events.append(self._read_message())

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def screenshot(self, page, width, scheme, out):
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session)
        mobile = width < 500
        self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=100, deviceScaleFactor=1, mobile=mobile)
        self.call("Emulation.setEmulatedMedia", session, media="screen",
                  features=[{"name": "prefers-color-scheme", "value": scheme}])
        self.call("Page.navigate", session, url="file://" + os.path.abspath(page))
        self.wait_event("Page.loadEventFired", session)
        size = self.call("Page.getLayoutMetrics", session)["cssContentSize"]
        height = int(size["height"] + 0.5)
        self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1, mobile=mobile)
        data = self.call("Page.captureScreenshot", session, format="png",
                         clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})["data"]
        with open(out, "wb") as file:
            file.write(base64.b64decode(data))
        self.call("Target.closeTarget", targetId=target)
        return height


def main(argv):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if argv[:1] == ["--chromium"]:
        chromium, argv = argv[1], argv[2:]
    if not chromium:
        sys.exit("screenshot.py: no Chromium found (Debian: apt-get install -y chromium)")
    if not argv or len(argv) % 4:
        sys.exit(__doc__)
    browser = Browser(chromium)
    try:
        for index in range(0, len(argv), 4):
            page, width, scheme, out = argv[index:index + 4]
            if scheme not in ("light", "dark"):
                sys.exit(f"screenshot.py: scheme is light or dark, got {scheme!r}")
            height = browser.screenshot(page, int(width), scheme, out)
            print(f"{out}: {width}x{height} {scheme}", file=sys.stderr)
    finally:
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
