/**
 * The CLI's usage text, on its own so that printing it (or an error about a command line) loads
 * none of the commands.
 */
const DEVICES_USAGE = `  edge-gateway devices add ID [--config FILE | --db PATH]      new device; prints its secret once
  edge-gateway devices rotate ID [--config FILE | --db PATH]   new secret for ID; prints it once
  edge-gateway devices remove ID [--config FILE | --db PATH]
  edge-gateway devices list [--json] [--config FILE | --db PATH]
  edge-gateway devices import FILE|- [--replace] [--config FILE | --db PATH]
                                  CSV deviceId[,secret] or JSON [{"deviceId","secret"?}]; generated
                                  secrets printed once as CSV deviceId,secret`;

const KEYS_USAGE = `  edge-gateway keys generate --kid KID [--out-dir DIR]
                                  new Ed25519 key pair: DIR/KID.private.pem (0600, never overwritten)
                                  and DIR/KID.public.pem; prints the control.trustedKeys YAML entry`;

const CONFIG_USAGE = `  edge-gateway config sign --key KID.private.pem --kid KID --gateway-id G --version N
                          [--expires-in SECS] [--out FILE] CONFIG.yaml
                                  validate CONFIG with the gateway's schema, then sign it (JWS, EdDSA)
  edge-gateway config push --bootstrap-server HOST:PORT[,..] [--topic edge.gateway.config]
                          [--command-config FILE.yaml] DOC.jws|-
                                  write DOC, key = its gateway id, to that key's partition (acks=all)
  edge-gateway config status --bootstrap-server HOST:PORT[,..] [--topic edge.gateway.status]
                          [--gateway-id G] [--json] [--command-config FILE.yaml] [--timeout-ms MS]
                                  last status of every gateway (or one, in full)`;

export const USAGE = `usage:
  edge-gateway [run] [--config FILE] [--print-config]   run the gateway (defaults need no file)
  edge-gateway audit [--config FILE] [--brokers HOST:PORT[,..]] [--topic T] [--expect SIM_SUMMARY.json] [--drop-log BUFFER.db] [--json]
${DEVICES_USAGE}
${KEYS_USAGE}
${CONFIG_USAGE}
  edge-gateway status [--config FILE] [--url http://127.0.0.1:9883] [--token T] [--json]
                                  the running gateway's snapshot from its admin server (GET /status)
  edge-gateway schemas export DIR [--config FILE]       write the .avsc files of every envelope
  edge-gateway sim [firmware-sim options]               simulated device fleet (single-executable builds)
  edge-gateway --version                                gateway, Node, arch and SQLite versions`;
