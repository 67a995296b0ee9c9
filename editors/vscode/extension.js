// The campc extension: .camp files get the TextMate grammar and language
// configuration of this folder, and a language client that starts
// `campc lsp` (diagnostics, hover, go to definition, references,
// completion, rename, formatting, symbols, quick fixes). Plain JavaScript:
// no build step; `npm install` brings vscode-languageclient.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("campc");
  const command = config.get("path") || "campc";
  const debounce = config.get("debounce") || "200ms";
  const server = { command, args: ["lsp", "--debounce", debounce], transport: TransportKind.stdio };
  client = new LanguageClient(
    "campc",
    "campc",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "camp" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/{*.camp,.campignore}") },
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
