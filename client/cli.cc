// The command table: every subcommand, its options, and which function runs
// it (client/cli_custody.cc, cli_chips.cc, cli_verify.cc).
#include "client/cli.h"

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <utility>
#include <vector>

#include "client/cli_common.h"

namespace chipledger {

int run_cli(int argc, char** argv) {
  using namespace chipledger::cli;
  CLI::App app{"chipledger: register, move, attest and verify chips on a chipledger ledger"};
  app.require_subcommand(1);
  // The options every command shares work before or after the subcommand
  // (`chipledger --node URL verify S` and `chipledger verify S --node URL`):
  // an option a subcommand does not know falls through to these.
  app.fallthrough();
  Args a;
  app.add_option("--node", a.node,
                 "node URL, or several separated by commas (default $CHIPLEDGER_NODE; then the "
                 "trust file's node URLs; else https://127.0.0.1:7800)");
  app.add_option("--ca", a.ca_file,
                 "the consortium CA (PEM) the node's HTTPS certificate must chain to (default: "
                 "the trust file's tls_ca)");
  app.add_flag("--json", a.json_out, "print JSON instead of text");
  app.add_option("--state", a.state_file,
                 "the client's checkpoint memory (default "
                 "$XDG_STATE_HOME/chipledger/checkpoints.json or "
                 "~/.local/state/chipledger/checkpoints.json)");

  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  auto command = [&](const char* name, const char* help, std::function<int()> run) {
    auto* cmd = app.add_subcommand(name, help);
    commands.emplace_back(cmd, std::move(run));
    return cmd;
  };
  app.add_option("--trust", a.trust,
                 "the consortium trust file (default $CHIPLEDGER_TRUST): receipts and verify "
                 "check against it; a genesis file, or a derived one (`trust --out`) whose "
                 "checkpoint every later one must extend");
  app.add_option("--timeout", a.timeout_s,
                 "seconds a node may take to answer before the next one is tried, and a "
                 "submission to reach a known outcome (default $CHIPLEDGER_TIMEOUT or 10)");
  app.add_option("--receipt-timeout", a.receipt_timeout_s,
                 "seconds a submission waits for its receipt (default 30)");
  auto author = [&](CLI::App* cmd) {
    cmd->add_option("--as", a.as, "member id of the author");
    cmd->add_option("--key", a.key_file, "the author's private key (PEM)");
    cmd->add_option("--trust", a.trust,
                    "the consortium trust file the receipt is checked against "
                    "(default $CHIPLEDGER_TRUST)");
  };
  auto serials = [&](CLI::App* cmd) {
    cmd->add_option("--serial", a.serials, "serial(s)");
    cmd->add_option("--csv", a.csv, "CSV file whose first column lists serials");
  };
  // A command naming serials by their latest event, signed by --as/--key.
  auto event = [&](const char* name, const char* help, TxType type) {
    auto* cmd = command(name, help, [&a, type] { return cmd_serial_event(a, type); });
    author(cmd);
    serials(cmd);
    return cmd;
  };

  auto* keygen =
      command("keygen", "generate a member's private key", [&] { return cmd_keygen(a); });
  keygen->add_option("--out", a.out, "where to write the private key (PEM, mode 0600)")->required();
  keygen->add_option("--algorithm", a.algorithm, "ed25519 (default), ecdsa-p256 or ecdsa-p384");

  auto* devkeys = command("devkeys", "simulate chips: device keys and a registration CSV",
                          [&] { return cmd_devkeys(a); });
  devkeys->add_option("--count", a.count, "how many chips")->required();
  devkeys->add_option("--prefix", a.prefix, "serial prefix (default GPU-)");
  devkeys->add_option("--start", a.start, "first serial number (default 1)");
  devkeys->add_option("--digits", a.digits, "zero-padded width of the number (default 4)");
  devkeys->add_option("--out", a.out, "folder for SERIAL.pem and devices.csv")->required();
  devkeys->add_option("--algorithm", a.algorithm, "ecdsa-p256 (default), ecdsa-p384 or ed25519");

  auto* reg =
      command("register", "register new serials (manufacturer)", [&] { return cmd_register(a); });
  author(reg);
  serials(reg);
  reg->add_option("--model", a.model, "chip model")->required();
  reg->add_option("--eccn", a.eccn, "export classification, e.g. 3A090");
  reg->add_option("--fab-site", a.fab_site, "fab site")->required();
  reg->add_option("--country", a.country, "country of manufacture (ISO alpha-2)")->required();

  auto* transfer = event("transfer", "send serials you hold to another member", TxType::transfer);
  transfer->add_option("--to", a.to, "recipient member id")->required();
  transfer->add_option("--ship-to", a.ship_to, "ship-to country (ISO alpha-2)")->required();
  transfer->add_option("--license", a.license, "export license id, when one is needed");
  event("accept", "accept serials in transit to you", TxType::accept);
  event("reject", "refuse serials in transit to you", TxType::reject)
      ->add_option("--reason", a.reason, "why");
  auto* install =
      event("install", "record serials you hold as installed (operator)", TxType::install);
  install->add_option("--site", a.site, "site id")->required();
  install->add_option("--country", a.country, "country of the site (ISO alpha-2)")->required();
  auto* decommission =
      event("decommission", "destroy or recycle serials (terminal)", TxType::decommission);
  decommission->add_option("--kind", a.kind, "destroyed or recycled")->required();
  decommission->add_option("--reason", a.reason, "why");
  event("flag", "flag serials: they cannot move (regulator)", TxType::flag)
      ->add_option("--reason", a.reason, "why")
      ->required();
  event("clear", "close flags and reports (regulator)", TxType::clear)
      ->add_option("--reason", a.reason, "why")
      ->required();
  auto* report =
      event("report", "report serials diverted, tampered with, lost or stolen", TxType::report);
  report->add_option("--kind", a.kind, "diverted, tampered, lost or stolen")->required();
  report->add_option("--reason", a.reason, "what is known")->required();

  auto* pack = command("pack", "pack chips you hold into a unit (a board or server)",
                       [&] { return cmd_pack(a); });
  author(pack);
  serials(pack);
  pack->add_option("--unit", a.unit, "the unit's serial")->required();
  pack->add_option("--unit-model", a.unit_model, "the model of a new unit (declares it)");
  event("unpack", "release the chips packed in units you hold", TxType::unpack);

  auto* license =
      command("license", "issue an export license (regulator)", [&] { return cmd_license(a); });
  author(license);
  license->add_option("--id", a.license_id, "license number")->required();
  license->add_option("--exporter", a.exporter, "member who may ship")->required();
  license->add_option("--recipient", a.recipient, "member who may receive")->required();
  license->add_option("--model", a.model, "chip model covered");
  license->add_option("--eccn", a.eccn, "export classification covered");
  license->add_option("--quantity", a.quantity, "how many chips")->required();
  license->add_option("--destination", a.destination, "destination country")->required();
  license->add_option("--expires", a.expires, "expiry, UTC: 2026-12-31 or 2026-12-31T18:00:00Z");
  license->add_option("--expires-in-days", a.expires_in_days, "expiry, in days from now");

  auto* attest = command("attest", "chips sign a verified checkpoint; the holder countersigns",
                         [&] { return cmd_attest(a); });
  author(attest);
  serials(attest);
  attest->add_option("--site", a.site, "the install site")->required();
  attest->add_option("--chip-keys", a.chip_keys, "folder of the chips' SERIAL.pem")->required();
  auto* locate = command("locate",
                         "landmarks time the chips' answers to fresh nonces: signed statements "
                         "of how far each chip can be, recorded by the holder with --as/--key "
                         "(docs/location.md)",
                         [&] { return cmd_locate(a); });
  serials(locate);
  author(locate);
  locate->add_option("--landmark", a.landmarks, "a landmark's URL (repeatable)")->required();
  locate->add_option("--chip-keys", a.chip_keys, "folder of the chips' SERIAL.pem")->required();
  locate->add_option("--chip-delay-ms", a.chip_delay_ms,
                     "the simulated chip waits this long before it answers (a chip that far "
                     "away on the network; default 0)");
  locate->add_option("--chips-per-tx", a.chips_per_tx,
                     "chips per locate transaction, each chunk over a checkpoint fetched for it "
                     "(1 to 1000, default 1000)");
  locate->add_option("--rounds", a.rounds,
                     "rounds per chip and landmark; the one with the smallest round trip is kept "
                     "(default 3)");
  locate->add_option("--out", a.out, "write the statements here (JSON lines)");

  auto* status = command("status", "a serial's current state, proven by the checkpoint's state map",
                         [&] { return cmd_status(a); });
  status->add_option("serial", a.serial, "serial")->required();
  status->add_option("--trust", a.trust, "the consortium trust file");
  auto* tx = command("tx",
                     "a transaction by its txid: in the ledger at an index (with a receipt), or "
                     "not (yet)",
                     [&] { return cmd_tx(a); });
  tx->add_option("txid", a.txid, "the transaction's id (64 hex digits)")->required();
  tx->add_option("--trust", a.trust, "the consortium trust file the receipt is checked against");
  auto* history = command("history", "a serial's events (from the node, not verified)",
                          [&] { return cmd_history(a); });
  history->add_option("serial", a.serial, "serial")->required();
  command("license-status", "an export license and how much of it is used",
          [&] { return cmd_license_show(a); })
      ->add_option("id", a.license_id, "license id")
      ->required();
  auto* verify =
      command("verify", "verify custody: one SERIAL, or a batch (several, or --csv FILE)",
              [&] { return cmd_verify(a); });
  verify->add_option("serial", a.serials, "serial(s); several verify as a batch");
  verify->add_option("--csv", a.csv, "batch: CSV file whose first column lists serials");
  verify->add_option("--trust", a.trust, "the consortium trust file");
  verify->add_flag("--list", a.list, "batch: one line per serial however many");

  auto* export_cmd =
      command("export",
              "export serials' verified custody events: --epcis writes GS1 EPCIS 2.0 JSON-LD "
              "(docs/epcis.md)",
              [&] { return cmd_export(a); });
  export_cmd->add_flag("--epcis", a.epcis, "GS1 EPCIS 2.0 JSON-LD (the one format)");
  export_cmd->add_option("serial", a.serials, "serial(s)");
  export_cmd->add_option("--csv", a.csv, "CSV file whose first column lists serials");
  export_cmd->add_option("--since", a.since,
                         "only events signed at or after this UTC time (2026-12-01 or "
                         "2026-12-01T18:00:00Z)");
  export_cmd->add_option("--out", a.out, "write the document here (default: standard output)");
  export_cmd->add_option("--trust", a.trust, "the consortium trust file");

  auto* propose = command("propose", "propose a change of the consortium (governance admins)",
                          [&] { return cmd_propose(a); });
  author(propose);
  propose->add_option("--add-member", a.add_member, "add this member (id)");
  propose->add_option("--name", a.member_name, "the new member's name");
  propose->add_option("--roles", a.roles, "the new member's roles")->delimiter(',');
  propose->add_option("--member-country", a.member_country, "the new member's country");
  propose->add_option("--member-key", a.member_key,
                      "the new member's key (PEM, public or private)");
  propose->add_option("--suspend", a.suspend, "suspend this member");
  propose->add_option("--reinstate", a.reinstate, "reinstate this suspended member");
  propose->add_option("--remove", a.remove, "remove this member for good");
  propose->add_option("--remove-node", a.remove_node,
                      "remove this node: out of the Raft configuration, its signatures no "
                      "longer count");
  propose->add_option("--quorum", a.set_quorum,
                      "set the checkpoint quorum (a strict majority of the nodes)");
  propose->add_option("--changes", a.changes_files,
                      "a JSON file of changes (one, or a list; docs/governance.md)");
  auto* vote =
      command("vote", "approve a proposal (governance admins)", [&] { return cmd_vote(a); });
  author(vote);
  vote->add_option("proposal", a.proposal, "the proposal's id (64 hex digits)")->required();
  command("proposals", "the open proposals, their approvals and what each still needs", [&] {
    return cmd_proposals(a);
  })->add_flag("--all", a.all, "also the applied and expired ones");
  auto* rotate = command("rotate-key", "replace your signing key (no vote needed)",
                         [&] { return cmd_rotate_key(a); });
  author(rotate);
  rotate->add_option("--new-key", a.new_key, "the new private key (PEM)")->required();
  auto* rotate_node = command(
      "rotate-node-key",
      "replace a node's checkpoint key, endorsed by its current one (its operator; no vote)",
      [&] { return cmd_rotate_node_key(a); });
  author(rotate_node);
  rotate_node->add_option("--node-id", a.node_id, "the node (its id in the trust file)")
      ->required();
  rotate_node->add_option("--node-key", a.node_key, "its current checkpoint key (PEM)")->required();
  rotate_node->add_option("--new-key", a.new_key, "its new checkpoint key (Ed25519, PEM)")
      ->required();

  auto* trust_cmd =
      command("trust",
              "write the consortium in force, proven from the genesis trust file (--out), or "
              "check such a file (--check)",
              [&] { return cmd_trust(a); });
  trust_cmd->add_option("--out", a.out, "write the derived trust file here");
  trust_cmd->add_option("--check", a.check, "check this derived trust file, offline");
  trust_cmd->add_option("--trust", a.trust,
                        "the genesis trust file (a derived one stands for the genesis it carries)");

  // --as and --key may come before the subcommand too; a command that
  // signs nothing refuses them rather than ignoring them.
  auto* global_as = app.add_option("--as", a.as, "member id of the author (commands that sign)");
  auto* global_key =
      app.add_option("--key", a.key_file, "the author's private key (commands that sign)");
  for (auto& [cmd, run] : commands) cmd->add_flag("--json", a.json_out, "print JSON");
  try {
    app.parse(argc, argv);
    for (auto& [cmd, run] : commands) {
      if (!*cmd) continue;
      for (auto* global : {global_as, global_key}) {
        if (global->count() > 0 && cmd->get_option_no_throw(global->get_name()) == nullptr) {
          throw CliError{global->get_name() + " is for commands that sign; `" + cmd->get_name() +
                         "` signs nothing"};
        }
      }
      return run();
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CliError& e) {
    std::cerr << "chipledger: " << e.message << "\n";
    return e.code;
  }
  return kExitError;
}

}  // namespace chipledger
