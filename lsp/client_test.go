package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

// client drives a server over a pipe with real JSON-RPC messages, as an
// editor would.
type client struct {
	t      *testing.T
	w      *io.PipeWriter
	nextID int
	done   chan error

	mu      sync.Mutex
	cond    *sync.Cond
	replies map[string]message
	diags   map[string][]protocol.Diagnostic // latest per URI
	nDiags  map[string]int                   // how many were published per URI
	notes   []message                        // other notifications
	raw     []message                        // every message, in order
}

func startClient(t *testing.T, opts Options) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, w: inW, done: make(chan error, 1), replies: map[string]message{}, diags: map[string][]protocol.Diagnostic{}, nDiags: map[string]int{}}
	c.cond = sync.NewCond(&c.mu)
	go func() {
		err := Serve(context.Background(), inR, outW, opts)
		outW.Close()
		c.done <- err
	}()
	go c.readLoop(outR)
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			t.Errorf("the server did not stop when its input closed")
		}
	})
	return c
}

func (c *client) readLoop(r io.Reader) {
	br := bufio.NewReader(r)
	for {
		length := -1
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		var m message
		if err := json.Unmarshal(body, &m); err != nil {
			c.t.Errorf("server sent bad JSON: %v: %s", err, body)
			return
		}
		c.mu.Lock()
		c.raw = append(c.raw, m)
		switch {
		case m.Method == "textDocument/publishDiagnostics":
			var p protocol.PublishDiagnosticsParams
			json.Unmarshal(m.Params, &p)
			// glsp's IntegerOrString does not decode (its UnmarshalJSON has
			// a value receiver): take the codes from the raw message.
			var raw struct {
				Diagnostics []struct {
					Code any `json:"code"`
				} `json:"diagnostics"`
			}
			json.Unmarshal(m.Params, &raw)
			for i := range p.Diagnostics {
				p.Diagnostics[i].Code = &protocol.IntegerOrString{Value: raw.Diagnostics[i].Code}
			}
			c.diags[p.URI] = p.Diagnostics
			c.nDiags[p.URI]++
		case m.Method != "":
			c.notes = append(c.notes, m)
		default:
			id := "null"
			if m.ID != nil {
				id = string(*m.ID)
			}
			c.replies[id] = m
		}
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(body)
}

func (c *client) sendRaw(body []byte) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.w, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		c.t.Fatalf("writing to the server: %v", err)
	}
}

// call sends a request and waits for its reply.
func (c *client) call(method string, params any) message {
	c.t.Helper()
	c.nextID++
	id := c.nextID
	c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return c.wait(strconv.Itoa(id))
}

func (c *client) wait(id string) message {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if m, ok := c.replies[id]; ok {
			delete(c.replies, id)
			return m
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no reply to request %s", id)
		}
		c.waitCond(deadline)
	}
}

// waitCond waits for news, or until the deadline.
func (c *client) waitCond(deadline time.Time) {
	t := time.AfterFunc(time.Until(deadline), func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	c.cond.Wait()
	t.Stop()
}

// result calls and decodes the result, failing on an error reply.
func (c *client) result(method string, params, out any) {
	c.t.Helper()
	m := c.call(method, params)
	if m.Error != nil {
		c.t.Fatalf("%s: error %d: %s", method, m.Error.Code, m.Error.Message)
	}
	if out != nil {
		if err := json.Unmarshal(m.Result, out); err != nil {
			c.t.Fatalf("%s: decoding %s: %v", method, m.Result, err)
		}
	}
}

func (c *client) notify(method string, params any) {
	c.t.Helper()
	c.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// sync makes sure the server has handled everything sent so far (it
// handles messages in order).
func (c *client) sync() {
	c.t.Helper()
	c.call("campc/none", nil)
}

func (c *client) diagsOf(uri string) []protocol.Diagnostic {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.diags[uri]
}

// waitDiags waits until uri's latest diagnostics satisfy ok.
func (c *client) waitDiags(uri string, ok func([]protocol.Diagnostic) bool) []protocol.Diagnostic {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if d, have := c.diags[uri]; have && ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("diagnostics of %s never became as expected; last: %+v", uri, c.diags[uri])
		}
		c.waitCond(deadline)
	}
}

func (c *client) initialize(root string) {
	c.t.Helper()
	var res protocol.InitializeResult
	c.result("initialize", map[string]any{"processId": nil, "rootUri": pathToURI(root), "capabilities": map[string]any{}}, &res)
	if res.ServerInfo == nil || res.ServerInfo.Name != "campc" {
		c.t.Fatalf("initialize: server info %+v", res.ServerInfo)
	}
	c.notify("initialized", map[string]any{})
}

func (c *client) open(file, text string) {
	c.t.Helper()
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": pathToURI(file), "languageId": "camp", "version": 1, "text": text}})
}

// change sends one incremental change replacing [from, to) (line, UTF-16
// column pairs) with text.
func (c *client) change(file string, version int, from, to protocol.Position, text string) {
	c.t.Helper()
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": pathToURI(file), "version": version},
		"contentChanges": []any{map[string]any{"range": protocol.Range{Start: from, End: to}, "text": text}},
	})
}

func (c *client) changeAll(file string, version int, text string) {
	c.t.Helper()
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": pathToURI(file), "version": version},
		"contentChanges": []any{map[string]any{"text": text}},
	})
}

func docPos(file string, pos protocol.Position) map[string]any {
	return map[string]any{"textDocument": map[string]any{"uri": pathToURI(file)}, "position": pos}
}

// writeProject writes files (name -> text) into a new folder.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	dir, _ = filepath.EvalSymlinks(dir)
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// find returns the LSP position of the n-th (0-based) occurrence of sub in
// text, plus skip UTF-16 units.
func find(t *testing.T, text, sub string, n, skip int) protocol.Position {
	t.Helper()
	off := -1
	for i := 0; i <= n; i++ {
		j := strings.Index(text[off+1:], sub)
		if j < 0 {
			t.Fatalf("%q: occurrence %d not found", sub, n)
		}
		off += 1 + j
	}
	p := posOf(text, off)
	p.Character += protocol.UInteger(skip)
	return p
}
