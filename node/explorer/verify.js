// What the browser checks by itself (docs/explorer.md): a checkpoint's C2SP
// tlog-cosignature/v1 signatures (Ed25519, WebCrypto) against node keys,
// and RFC 9162 inclusion proofs of a history's events (SHA-256, WebCrypto).
// No other code: the custody rules run in the node's verifier and in
// `chipledger verify`, never in a second copy here.
"use strict";
(function () {
  const enc = new TextEncoder();

  function b64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function fromHex(text) {
    if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error("not hex: " + text.slice(0, 16));
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  function equal(a, b) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // A PEM public key (SubjectPublicKeyInfo); for Ed25519 its raw 32 bytes
  // are the DER's last 32 (RFC 8410: a 12-byte header, then the key).
  function pemToDer(pem) {
    const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    return b64(body);
  }
  const ED25519_SPKI_PREFIX = fromHex("302a300506032b6570032100");
  function ed25519Raw(pem) {
    const der = pemToDer(pem);
    if (der.length !== 44 || !equal(der.slice(0, 12), ED25519_SPKI_PREFIX)) return null;
    return der.slice(12);
  }

  // A C2SP signed note: the body, a blank line, signature lines
  // "— NAME BASE64".
  function parseNote(note) {
    const cut = note.indexOf("\n\n");
    if (cut < 0) throw new Error("not a signed note");
    const body = note.slice(0, cut + 1);
    const lines = body.split("\n");
    const cp = { origin: lines[0], size: Number(lines[1]), root: b64(lines[2]), stateRoot: null };
    for (const ext of lines.slice(3)) {
      if (ext.startsWith("state-root ")) cp.stateRoot = b64(ext.slice(11));
    }
    const signatures = [];
    for (const line of note.slice(cut + 2).split("\n")) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (m) signatures.push({ name: m[1], bytes: b64(m[2]) });
    }
    return { body, checkpoint: cp, signatures };
  }

  // tlog-cosignature/v1: key hash = SHA-256(name "\n" 0x04 key)[:4];
  // the signature is keyhash(4) || time(8, big-endian) || Ed25519(64) over
  // "cosignature/v1\ntime T\n" || body.
  async function verifyCosignature(body, sig, rawKey) {
    if (sig.bytes.length !== 4 + 8 + 64) return null;
    const keyHash = (await sha256(concat(enc.encode(sig.name + "\n"), new Uint8Array([4]), rawKey))).slice(0, 4);
    if (!equal(keyHash, sig.bytes.slice(0, 4))) return null;
    let time = 0n;
    for (const b of sig.bytes.slice(4, 12)) time = (time << 8n) | BigInt(b);
    const message = enc.encode("cosignature/v1\ntime " + time.toString() + "\n" + body);
    const key = await crypto.subtle.importKey("raw", rawKey, { name: "Ed25519" }, false, ["verify"]);
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, sig.bytes.slice(12), message);
    return ok ? Number(time) : null;
  }

  // The checkpoint note checked against `nodes` ([{id, key: PEM}]) and
  // `quorum`: which nodes' signatures verified, and whether they are a
  // quorum. Unknown names and bad signatures are ignored (signed-note).
  async function verifyCheckpoint(note, ledgerId, nodes, quorum) {
    const parsed = parseNote(note);
    const result = { checkpoint: parsed.checkpoint, signers: [], quorum, met: false, problem: null };
    if (parsed.checkpoint.origin !== ledgerId) {
      result.problem = "the checkpoint is of ledger " + parsed.checkpoint.origin + ", not " + ledgerId;
      return result;
    }
    for (const sig of parsed.signatures) {
      const node = nodes.find((n) => n.id === sig.name);
      const raw = node && ed25519Raw(node.key);
      if (!raw || result.signers.some((s) => s.id === sig.name)) continue;
      const time = await verifyCosignature(parsed.body, sig, raw);
      if (time !== null) result.signers.push({ id: sig.name, time });
    }
    result.met = result.signers.length >= quorum;
    return result;
  }

  // RFC 9162 section 2.1.3.2.
  async function verifyInclusion(index, size, leaf, proof, root) {
    if (index >= size) return false;
    let fn = index;
    let sn = size - 1;
    let r = await sha256(concat(new Uint8Array([0]), leaf));
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(new Uint8Array([1]), p, r));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = await sha256(concat(new Uint8Array([1]), r, p));
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  // Every event of a history answer (GET /v1/chips/S/history) proven in
  // the checkpoint's tree: [{index, txid, ok}].
  async function verifyHistory(history, checkpoint) {
    const out = [];
    for (const e of history.events || []) {
      let ok = false;
      try {
        const proof = (e.proof || []).map(fromHex);
        ok = history.size === checkpoint.size &&
             (await verifyInclusion(e.index, checkpoint.size, b64(e.tx), proof, checkpoint.root));
      } catch (err) {
        ok = false;
      }
      out.push({ index: e.index, txid: e.txid, ok });
    }
    return out;
  }

  window.chipledgerVerify = { verifyCheckpoint, verifyHistory, verifyInclusion, parseNote, hex, b64 };
})();
