// Starts `modelcheck lsp` for .fspec files.  Highlighting alone needs no
// server: the TextMate grammar in syntaxes/ is enough.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("modelcheck");
  const [command, ...args] = config.get("command");
  client = new LanguageClient("modelcheck", "modelcheck",
    { command, args },
    {
      documentSelector: [{ scheme: "file", language: "fspec" }],
      initializationOptions: { checkOnSave: config.get("checkOnSave") },
    });
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
