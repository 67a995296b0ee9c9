// Package vscode holds the VS Code extension for .camp files (see
// package.json) and the Go test that runs its grammar's golden test, so
// that go test ./... runs it wherever Node.js is installed.
package vscode

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGrammarGolden tokenizes every example with the TextMate grammar
// (test/golden.js, with vscode-textmate and vscode-oniguruma) and compares
// the scopes with the golden files. It skips only when node or npm is not
// installed, unless CAMPC_REQUIRE_NODE is set (CI sets it).
func TestGrammarGolden(t *testing.T) {
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CAMPC_REQUIRE_NODE") != "" {
			t.Fatalf("node and npm are needed for the grammar's golden test (CAMPC_REQUIRE_NODE is set): %v %v", errNode, errNpm)
		}
		t.Skip("skipped: the grammar's golden test needs node and npm (not installed); .ci/run installs them")
	}
	if _, err := os.Stat(filepath.Join("test", "node_modules", "vscode-textmate")); err != nil {
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = "test"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in editors/vscode/test: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(node, "golden.js")
	cmd.Dir = "test"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("grammar golden test failed (run node golden.js --update in editors/vscode/test if the change is intended): %v\n%s", err, out)
	}
	if !strings.Contains(string(out), " passed, 0 failed") {
		t.Fatalf("unexpected output:\n%s", out)
	}
}

// TestExtensionFiles checks that the extension's JSON files parse and that
// what package.json names exists.
func TestExtensionFiles(t *testing.T) {
	for _, f := range []string{"package.json", "language-configuration.json", "syntaxes/camp.tmLanguage.json", "test/package.json", "test/package-lock.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	var pkg struct {
		Main        string `json:"main"`
		Contributes struct {
			Languages []struct {
				ID            string   `json:"id"`
				Extensions    []string `json:"extensions"`
				Configuration string   `json:"configuration"`
			} `json:"languages"`
			Grammars []struct {
				Language  string `json:"language"`
				ScopeName string `json:"scopeName"`
				Path      string `json:"path"`
			} `json:"grammars"`
		} `json:"contributes"`
	}
	b, _ := os.ReadFile("package.json")
	json.Unmarshal(b, &pkg)
	if len(pkg.Contributes.Languages) != 1 || pkg.Contributes.Languages[0].Extensions[0] != ".camp" || len(pkg.Contributes.Grammars) != 1 {
		t.Fatalf("package.json contributes %+v", pkg.Contributes)
	}
	for _, p := range []string{pkg.Main, pkg.Contributes.Languages[0].Configuration, pkg.Contributes.Grammars[0].Path} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("package.json names %s: %v", p, err)
		}
	}
	js, _ := os.ReadFile(pkg.Main)
	if !strings.Contains(string(js), `["lsp"`) {
		t.Errorf("%s does not start campc lsp", pkg.Main)
	}
	if node, err := exec.LookPath("node"); err == nil {
		if out, err := exec.Command(node, "--check", pkg.Main).CombinedOutput(); err != nil {
			t.Errorf("%s is not valid JavaScript: %v\n%s", pkg.Main, err, out)
		}
	}
}
