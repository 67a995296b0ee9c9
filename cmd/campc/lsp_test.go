package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func lspFrame(body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

// TestLSPCommand runs campc lsp over its standard input and output: an
// editor's first and last messages, then a usage error.
func TestLSPCommand(t *testing.T) {
	in := lspFrame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}`) +
		lspFrame(`{"jsonrpc":"2.0","method":"initialized","params":{}}`) +
		lspFrame(`{"jsonrpc":"2.0","id":2,"method":"textDocument/nope","params":{}}`) +
		lspFrame(`{"jsonrpc":"2.0","id":3,"method":"shutdown"}`) +
		lspFrame(`{"jsonrpc":"2.0","method":"exit"}`)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"lsp"}, strings.NewReader(in), &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("a clean session logged:\n%s", stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{`"id":1,"result":{"capabilities":`, `"name":"campc"`, `"id":2,"error":{"code":-32601`, `"id":3,"result":null`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	// Input that ends without exit is an error.
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"lsp"}, strings.NewReader(""), &stdout, &stderr); code != exitError || !strings.Contains(stderr.String(), "campc lsp:") {
		t.Errorf("input ended: exit %d, stderr %q", code, stderr.String())
	}
	if code := run([]string{"lsp", "extra"}, strings.NewReader(""), &stdout, &stderr); code != exitUsage {
		t.Errorf("lsp extra: exit %d", code)
	}
}
