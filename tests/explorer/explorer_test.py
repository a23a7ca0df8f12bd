#!/usr/bin/env python3
"""The web explorer in a real browser (docs/explorer.md).

Starts a real chipledger-node (plain HTTP, the demo consortium), writes a
custody story with the real chipledger CLI (chips packed into a server and
installed; a chip exported under a license, then flagged by the
regulator), and loads the explorer's pages in headless Chromium (Debian's
chromium), reading the DOM the page built: the chain, the verdict and its
findings, and the page's own checks (checkpoint signatures and inclusion
proofs verified in the browser). A proxy that plays a lying node (it
changes one inclusion proof in the history answers) must make the page
report the failed check. Screenshots go to ARTIFACTS (default
build/explorer-artifacts/). Exits non-zero on the first failed check,
saying what was expected and what the page showed.

usage: explorer_test.py --build BUILD_DIR [--artifacts DIR]
"""
import argparse
import html
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = []


def check(cond, what, shown=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
        if shown:
            print("     the page showed: " + shown[:1500])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        try:
            if fn():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise SystemExit("timed out waiting for " + what)


def browse(url, screenshot=None, budget_ms=15000):
    """The DOM after the page's scripts ran (virtual time waits for fetches)."""
    profile = tempfile.mkdtemp(prefix="chipledger-chromium-")
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=" + profile, "--virtual-time-budget=%d" % budget_ms,
            "--window-size=1280,1700"]
    try:
        dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True,
                             timeout=120).stdout
        if screenshot:
            subprocess.run(base + ["--screenshot=" + screenshot, url], capture_output=True,
                           timeout=120)
        return dom
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def text_of(dom, element_id):
    m = re.search(r'<[^>]+id="%s"[^>]*>(.*?)</(ol|ul|div|table|dl|h1|p|span)>' % element_id, dom, re.S)
    return re.sub(r"<[^>]+>", " ", m.group(1)) if m else ""


class LyingProxy(http.server.BaseHTTPRequestHandler):
    """Forwards to the node and lies in one way (`lie`): "proof" flips one
    hex digit of the first event's first inclusion proof in history
    answers; "verdict" rewrites the verdict answer into a clean one (verdict
    ok, no findings, the flag row shown as an install); "size" says the
    verdict was judged at another checkpoint size; "upload" tells no lie
    but makes the explorer's page load `upload` as the user's trust file,
    through the page's own file input (a script of this proxy sets the
    input's files and fires its change event, as a user's choice does,
    while the page's first render waits for the node's keys (GET
    /v1/governance): with `hold_next`, the proxy holds that answer back
    until the render the choice started has drawn its checks, so the
    first render ends last, and the later one must be what is left)."""
    upstream = ""
    lie = "proof"
    upload = ""
    hold_next = False
    released = threading.Event()

    def do_GET(self):
        if self.path == "/vectors.html":
            return self.vectors_page()
        if self.path == "/upload-trust.js":
            return self.upload_script()
        if self.path == "/release-keys":
            LyingProxy.released.set()
            self.send_response(204)
            self.end_headers()
            return
        if self.lie == "upload" and self.path == "/v1/governance" and LyingProxy.hold_next:
            LyingProxy.hold_next = False
            LyingProxy.released.clear()
            LyingProxy.released.wait(20)
        with urllib.request.urlopen(self.upstream + self.path) as r:
            body, ctype, status = r.read(), r.headers.get("Content-Type", ""), r.status
        if self.lie == "upload" and self.path.split("#")[0] in ("/explorer/", "/explorer/index.html"):
            body = body.replace(b"</body>", b'<script src="/upload-trust.js"></script></body>')
        if self.lie == "proof" and "/history" in self.path:
            answer = json.loads(body)
            for event in answer.get("events", []):
                if event.get("proof"):
                    p = event["proof"][0]
                    event["proof"][0] = ("1" if p[0] == "0" else "0") + p[1:]
                    break
            body = json.dumps(answer).encode()
        if self.lie in ("verdict", "size") and self.path.endswith("/verdict"):
            answer = json.loads(body)
            report = answer["report"]
            if self.lie == "verdict":
                report["verdict"], report["exit_code"], report["findings"] = "ok", 0, []
                for row in report["chain"]:
                    if row["type"] == "flag":
                        row["type"], row["event"], row["site"] = "install", "install at dubai-1 (AE)", "dubai-1"
            else:
                report["checkpoint"]["size"] = 999999
            body = json.dumps(answer).encode()
        self.answer(status, ctype, body)

    def answer(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def upload_script(self):
        """Chooses `upload` in the trust file input as soon as the page's
        first render has asked for the node's keys (it found no trust
        file), and releases that answer once the choice has shown: a
        refusal, or checks drawn against the trust file."""
        script = ("(function () {"
                  " function shown() {"
                  "  const error = document.getElementById('trust-error');"
                  "  const checks = document.getElementById('checks');"
                  "  return (error && !error.hidden) || (checks && checks.textContent.includes('your trust file'));"
                  " }"
                  " function choose() {"
                  "  const files = new DataTransfer();"
                  "  files.items.add(new File([%s], 'consortium.json', {type: 'application/json'}));"
                  "  const input = document.getElementById('trust-file');"
                  "  input.files = files.files;"
                  "  input.dispatchEvent(new Event('change'));"
                  "  const seen = new MutationObserver(() => {"
                  "   if (shown()) { seen.disconnect(); fetch('/release-keys'); } });"
                  "  seen.observe(document.body, {subtree: true, childList: true, attributes: true});"
                  " }"
                  " const fetched = window.fetch; let chosen = false;"
                  " window.fetch = (...args) => {"
                  "  const answer = fetched(...args);"
                  "  if (!chosen && String(args[0]) === '/v1/governance') { chosen = true; choose(); }"
                  "  return answer; };"
                  "})();") % json.dumps(self.upload)
        body = script.encode()
        self.answer(200, "text/javascript; charset=utf-8", body)

    def vectors_page(self):
        """A page that runs the node's own verify.js (fetched through this
        proxy) over tests/vectors/transactions.json and writes what its
        decoder read of each signed transaction into <pre id="decoded">."""
        with open(os.path.join(SOURCE, "tests", "vectors", "transactions.json")) as f:
            vectors = json.load(f)["vectors"]
        wires = json.dumps([v["signed"] for v in vectors])
        page = ("<!doctype html><html><body><pre id=\"decoded\">pending</pre>"
                "<script src=\"/explorer/verify.js\"></script><script>"
                "const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));"
                "(async () => { const out = [];"
                " for (const w of %s) {"
                "  try { out.push(await window.chipledgerVerify.decodeSigned(fromHex(w))); }"
                "  catch (e) { out.push({error: String(e)}); } }"
                " document.getElementById('decoded').textContent = JSON.stringify(out); })();"
                "</script></body></html>") % wires
        body = page.encode()
        self.answer(200, "text/html; charset=utf-8", body)

    def log_message(self, *args):
        pass


# What verify.js must read of each vector (tests/ledger/transaction_vectors_test.cc
# builds them): the type by the vector's name, and a transfer's to and ship_to.
VECTOR_TYPES = {"licensed transfer": "transfer", "propose node changes": "propose",
                "propose admin groups": "propose"}
VECTOR_TRANSFERS = {"transfer": ("distributor", "SG"), "licensed transfer": ("distributor", "AE")}


def check_vectors(dom):
    """verify.js's decoder against every transaction vector."""
    with open(os.path.join(SOURCE, "tests", "vectors", "transactions.json")) as f:
        vectors = json.load(f)["vectors"]
    m = re.search(r'<pre id="decoded">(.*?)</pre>', dom, re.S)
    decoded = json.loads(html.unescape(m.group(1))) if m and m.group(1) != "pending" else []
    check(len(decoded) == len(vectors), "verify.js decoded all %d transaction vectors" % len(vectors),
          m.group(1) if m else dom)
    wrong = []
    for v, d in zip(vectors, decoded):
        to, ship_to = VECTOR_TRANSFERS.get(v["name"], ("", ""))
        want = {"type": VECTOR_TYPES.get(v["name"], v["name"]), "ledgerId": "chipledger.dev/vectors",
                "time_ms": 1790000000000, "to": to, "ship_to": ship_to, "txid": v["txid"]}
        got = {k: d.get(k) for k in want}
        if got != want or not d.get("author"):
            wrong.append("%s: %s, expected %s" % (v["name"], d, want))
    check(not wrong, "verify.js reads each vector's type, ledger, time, transfer fields and txid",
          "; ".join(wrong))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--artifacts")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    artifacts = os.path.abspath(args.artifacts or os.path.join(build, "explorer-artifacts"))
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="chipledger-explorer-")
    port = free_port()
    node_bin, cli_bin = os.path.join(build, "chipledger-node"), os.path.join(build, "chipledger")
    subprocess.run([node_bin, "init", "--dir", work, "--port", str(port), "--plain-http",
                    "--template", os.path.join(SOURCE, "config/demo-consortium.json")],
                   check=True, capture_output=True)
    log = open(os.path.join(work, "node.log"), "w")
    node = subprocess.Popen([node_bin, "--config", os.path.join(work, "node.toml")],
                            stdout=log, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    try:
        wait_for("the node", lambda: urllib.request.urlopen(url + "/v1/health").status == 200)

        def cli(*argv):
            r = subprocess.run([cli_bin, "--node", url, "--trust", os.path.join(work, "consortium.json"),
                                "--state", os.path.join(work, "state.json")] + list(argv),
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise SystemExit("chipledger %s: exit %d\n%s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))

        def as_(m):
            return ["--as", m, "--key", os.path.join(work, "keys", m + ".pem")]

        cli("register", *as_("maker"), "--model", "H100-SXM5", "--eccn", "3A090", "--fab-site", "Fab 18",
            "--country", "TW", "--serial", "GPU-0001", "--serial", "GPU-0002", "--serial", "GPU-0003")
        cli("transfer", *as_("maker"), "--to", "integrator", "--ship-to", "US", "--serial", "GPU-0001", "--serial", "GPU-0002")
        cli("accept", *as_("integrator"), "--serial", "GPU-0001", "--serial", "GPU-0002")
        cli("pack", *as_("integrator"), "--unit", "SRV-1", "--unit-model", "HGX-H100", "--serial", "GPU-0001", "--serial", "GPU-0002")
        cli("transfer", *as_("integrator"), "--to", "datacenter", "--ship-to", "US", "--serial", "SRV-1")
        cli("accept", *as_("datacenter"), "--serial", "SRV-1")
        cli("install", *as_("datacenter"), "--site", "ashburn-1", "--country", "US", "--serial", "SRV-1")
        cli("transfer", *as_("maker"), "--to", "distributor", "--ship-to", "SG", "--serial", "GPU-0003")
        cli("accept", *as_("distributor"), "--serial", "GPU-0003")
        cli("license", *as_("regulator"), "--id", "EXP-7", "--exporter", "distributor", "--recipient",
            "cloud-east", "--model", "H100-SXM5", "--quantity", "1", "--destination", "AE", "--expires-in-days", "30")
        cli("transfer", *as_("distributor"), "--to", "cloud-east", "--ship-to", "AE", "--license", "EXP-7", "--serial", "GPU-0003")
        cli("flag", *as_("regulator"), "--serial", "GPU-0003", "--reason", "audit")

        # The page loads and lists the members.
        dom = browse(url + "/explorer/", os.path.join(artifacts, "home.png"))
        check('data-ready="1"' in dom and "regulator" in text_of(dom, "members"),
              "the explorer loads and lists the consortium's members", dom)

        # A flagged chip, searched with the search box (?q= submits it): its
        # chain, its verdict and the flag, checked in the browser.
        dom = browse(url + "/explorer/?q=GPU-0003", os.path.join(artifacts, "chip-flagged.png"))
        check("<h1>GPU-0003" in dom, "the search box's search shows GPU-0003's page", dom[:1500])
        check('data-verdict="flagged"' in dom, "GPU-0003's verdict is flagged", text_of(dom, "verdict"))
        check('data-finding="flagged"' in dom and "audit" in text_of(dom, "findings"),
              "the flag is a finding, with the regulator's reason", text_of(dom, "findings"))
        types = re.findall(r'data-type="([a-z-]+)"', dom)
        check(types == ["register", "transfer", "accept", "license", "transfer", "flag"],
              "GPU-0003's chain is register, transfer, accept, license, transfer, flag", str(types))
        check('data-check="checkpoint" data-state="node-keys"' in dom,
              "the checkpoint's signatures verify under the node's own keys, said to be not independent",
              text_of(dom, "checks"))
        for check_id in ("inclusion", "chain"):
            check('data-check="%s" data-state="ok"' % check_id in dom,
                  "the browser's %s check passed" % check_id, text_of(dom, "checks"))
        check("6 of 6 event(s) proven" in text_of(dom, "checks"),
              "all six inclusion proofs were checked in the browser", text_of(dom, "checks"))
        check('id="map"' in dom and re.search(r"<text[^>]*>\d+ AE</text>", dom) is not None,
              "the route map plots the export's destination, AE", "")

        # A chip in a unit that was installed: its unit linked; the unit lists its chips.
        dom = browse(url + "/explorer/#/chip/GPU-0001", os.path.join(artifacts, "chip.png"))
        check('data-verdict="' in dom and 'href="#/chip/SRV-1"' in dom,
              "GPU-0001 shows a verdict and links its unit SRV-1", text_of(dom, "verdict"))
        dom = browse(url + "/explorer/#/chip/SRV-1")
        check("GPU-0001" in text_of(dom, "children") and "GPU-0002" in text_of(dom, "children"),
              "SRV-1 lists the chips packed in it", dom[-2000:])

        # A member page and a license page.
        dom = browse(url + "/explorer/#/member/regulator")
        check("regulator" in text_of(dom, "roles"), "the regulator's member page shows its role",
              text_of(dom, "member"))
        dom = browse(url + "/explorer/#/license/EXP-7", os.path.join(artifacts, "license.png"))
        check('id="license"' in dom and "cloud-east" in dom and "AE" in dom,
              "the license page shows EXP-7's recipient and destination", dom[-2000:])

        # An unknown serial: said plainly.
        dom = browse(url + "/explorer/#/chip/GPU-9999")
        check('data-verdict="not-registered"' in dom,
              "an unknown serial is reported not registered", text_of(dom, "verdict"))

        # A lying node: one inclusion proof changed on the way. The page must say so.
        LyingProxy.upstream = url
        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), LyingProxy)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        lying = "http://127.0.0.1:%d" % proxy.server_address[1]
        dom = browse(lying + "/explorer/#/chip/GPU-0003", os.path.join(artifacts, "chip-lying-node.png"))
        check('data-check="inclusion" data-state="failed"' in dom,
              "through a lying proxy the page reports the failed inclusion check", text_of(dom, "checks"))
        check("inclusion proof FAILED in this browser" in dom,
              "the tampered event is marked in the timeline", text_of(dom, "timeline"))
        LyingProxy.lie = "verdict"
        dom = browse(lying + "/explorer/#/chip/GPU-0003", os.path.join(artifacts, "chip-lying-verdict.png"))
        check('data-check="chain" data-state="failed"' in dom and "rows at index 11" in text_of(dom, "checks"),
              "a verdict rewritten to ok, its flag shown as an install, fails the chain check at the flag's row",
              text_of(dom, "checks"))
        LyingProxy.lie = "size"
        dom = browse(lying + "/explorer/#/chip/GPU-0003")
        check('data-check="same-checkpoint" data-state="failed"' in dom and
              'data-check="inclusion" data-state="unchecked"' in dom,
              "a verdict judged at another checkpoint is refused and nothing is shown as proven",
              text_of(dom, "checks"))
        check_vectors(browse(lying + "/vectors.html"))

        # The user's own trust file, chosen in the page's file input: the
        # checkpoint is then checked against its keys, independently of the
        # node. A trust file naming another key for node-maker (a node that
        # signs with a key the user never trusted) fails the check; a file
        # that is not a trust file is refused and changes nothing.
        with open(os.path.join(work, "consortium.json")) as f:
            trust_text = f.read()
        LyingProxy.lie, LyingProxy.upload, LyingProxy.hold_next = "upload", trust_text, True
        dom = browse(lying + "/explorer/#/chip/GPU-0003", os.path.join(artifacts, "chip-trust-file.png"))
        check("Node keys: your trust file (ledger " in text_of(dom, "trust-source") and
              'data-check="checkpoint" data-state="ok"' in dom and "against your trust file" in dom,
              "with the user's trust file loaded, the checkpoint's signatures verify against its keys",
              text_of(dom, "trust-source") + " / " + text_of(dom, "checks"))
        other = os.path.join(work, "other")
        subprocess.run([node_bin, "init", "--dir", other, "--port", str(free_port()), "--plain-http",
                        "--template", os.path.join(SOURCE, "config/demo-consortium.json")],
                       check=True, capture_output=True)
        with open(os.path.join(other, "consortium.json")) as f:
            other_key = json.load(f)["nodes"][0]["key"]
        wrong = json.loads(trust_text)
        for n in wrong["nodes"]:
            n["key"] = other_key
        LyingProxy.upload, LyingProxy.hold_next = json.dumps(wrong), True
        dom = browse(lying + "/explorer/#/chip/GPU-0003")
        check('data-check="checkpoint" data-state="failed"' in dom and
              "NOT met (against your trust file)" in dom and 'data-check="inclusion" data-state="ok"' not in dom,
              "a trust file with another key for the node fails the checkpoint check, nothing shown as proven",
              text_of(dom, "checks"))
        LyingProxy.upload, LyingProxy.hold_next = json.dumps({"hello": "world"}), True
        dom = browse(lying + "/explorer/#/chip/GPU-0003")
        check("Node keys: this node's" in text_of(dom, "trust-source") and
              "not a chipledger trust file" in text_of(dom, "trust-error") and
              'data-check="checkpoint" data-state="node-keys"' in dom,
              "a file that is not a trust file is refused and the node's keys stay in use",
              text_of(dom, "trust-source") + " / " + text_of(dom, "checks"))
        proxy.shutdown()
    finally:
        node.terminate()
        node.wait(timeout=30)
        log.close()
    if failures:
        print("%d check(s) failed; node folder kept: %s" % (len(failures), work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("all explorer checks passed; screenshots in " + artifacts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
