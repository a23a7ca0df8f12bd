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
    const cut = note.lastIndexOf("\n\n");
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
    result.met = quorum >= 1 && result.signers.length >= quorum;
    result.freshAsOf = freshAsOf(result.signers, quorum);
    return result;
  }

  // RFC 9162 section 2.1.3.2. Indices are whole numbers, hashes 32 bytes.
  async function verifyInclusion(index, size, leaf, proof, root) {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
      return false;
    }
    if (proof.some((p) => p.length !== 32)) return false;
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

  // The signed transaction's header, decoded from the proven bytes
  // (docs/encoding.md): signed := bytes body || bytes signature; body :=
  // u8 version, u8 type, str ledger_id, str author, hash key_id, u64
  // time_ms, then the type's fields, of which a transfer's first two (str
  // to, str ship_to) are read. The transaction id is SHA-256 of
  // "chipledger-txid-v1" 0x00 body. Only what the page shows of an event;
  // the rules are the node's verifier's.
  const TYPES = ["", "register", "transfer", "accept", "reject", "install", "attest", "pack",
                 "unpack", "decommission", "flag", "clear", "report", "license", "propose", "vote",
                 "rotate-key", "rotate-node-key", "locate"];
  const dec = new TextDecoder("utf-8", { fatal: true });
  async function decodeSigned(wire) {
    let at = 0;
    const u32 = (buf) => {
      if (at + 4 > buf.length) throw new Error("truncated");
      const v = ((buf[at] << 24) >>> 0) + (buf[at + 1] << 16) + (buf[at + 2] << 8) + buf[at + 3];
      at += 4;
      return v;
    };
    const bytes = (buf) => {
      const n = u32(buf);
      if (at + n > buf.length) throw new Error("truncated");
      at += n;
      return buf.slice(at - n, at);
    };
    const body = bytes(wire);
    bytes(wire);
    if (at !== wire.length) throw new Error("trailing bytes");
    at = 0;
    if (body.length < 2 || body[0] !== 1) throw new Error("not a version 1 transaction");
    const type = TYPES[body[1]] || "unknown";
    at = 2;
    const ledgerId = dec.decode(bytes(body));
    const author = dec.decode(bytes(body));
    at += 32;
    if (at + 8 > body.length) throw new Error("truncated");
    let time = 0;
    for (let i = 0; i < 8; i++) time = time * 256 + body[at + i];
    at += 8;
    const tx = { type, ledgerId, author, time_ms: time, to: "", ship_to: "" };
    if (type === "transfer") {
      tx.to = dec.decode(bytes(body));
      tx.ship_to = dec.decode(bytes(body));
    }
    const domain = enc.encode("chipledger-txid-v1\0");
    tx.txid = hex(await sha256(concat(domain, body)));
    return tx;
  }

  // Every event of a history answer (GET /v1/chips/S/history) proven in
  // the checkpoint's tree, with its header decoded from the proven bytes:
  // [{index, ok, tx}] (tx null when the bytes do not decode).
  async function verifyHistory(history, checkpoint) {
    const out = [];
    for (const e of history.events || []) {
      let ok = false;
      let tx = null;
      try {
        const wire = b64(e.tx);
        const proof = (e.proof || []).map(fromHex);
        ok = history.size === checkpoint.size &&
             (await verifyInclusion(e.index, checkpoint.size, wire, proof, checkpoint.root));
        tx = await decodeSigned(wire);
      } catch (err) {
        ok = false;
      }
      out.push({ index: e.index, ok, tx });
    }
    return out;
  }

  // The quorum-th newest signature time (POSIX s): the checkpoint's
  // freshness (docs/checkpoint.md); 0 without a quorum.
  function freshAsOf(signers, quorum) {
    const times = signers.map((s) => s.time).sort((a, b) => b - a);
    return quorum >= 1 && times.length >= quorum ? times[quorum - 1] : 0;
  }

  window.chipledgerVerify = { verifyCheckpoint, verifyHistory, verifyInclusion, decodeSigned, parseNote, hex, b64 };
})();
