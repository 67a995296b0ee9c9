package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/campc/campc/lang"
)

// maxDocument is the largest document the server keeps: the compiler's own
// limit per file (a larger one gets the compiler's limit diagnostic).
const maxDocument = lang.MaxFileSize

// Options configure a server.
type Options struct {
	// Zones is the time zone database the compiler is given.
	Zones func(string) (*time.Location, error)
	// Debounce is how long after the last change the diagnostics are
	// published; 0 publishes at once. campc lsp uses DefaultDebounce.
	Debounce time.Duration
	// MaxMessage bounds one message's size in bytes; 0 means a little over
	// twice the largest document (a full-text change, escaped).
	MaxMessage int
	// Log receives the server's own log lines (never document text); nil
	// discards them.
	Log io.Writer
}

// GCPercent is the collector setting campc lsp runs with when GOGC is not
// set. The server's live heap is small (about 11 MB for a 1,000-campaign
// project) and each re-analysis allocates about twice that, so at Go's
// default of 100 the collector runs several times per keystroke; at 400
// the heap may grow to about five times the live data (some 55 MB there)
// and a re-analysis takes about a quarter less time (BenchmarkLSPEdit runs
// with it, as the server does).
const GCPercent = 400

// DefaultDebounce is the pause after typing before diagnostics appear.
const DefaultDebounce = 200 * time.Millisecond

// Server is a campc language server on one connection.
type Server struct {
	opts Options
	conn *conn

	mu        sync.Mutex
	h         protocol.Handler
	docs      map[string]*document // open documents by file
	projects  map[string]*Analyzer // by root folder
	roots     []string             // the editor's workspace folders
	published map[string][]string  // root -> files last published with diagnostics
	timers    map[string]*time.Timer
	shutdown  bool
	exit      bool
}

type document struct {
	uri     string
	file    string
	version int32
	text    string
}

// Serve runs a server over in and out until the client sends exit, the
// input ends, or ctx is done. It returns nil after a shutdown then exit.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	s := newServer(in, out, opts)
	return s.loop(ctx)
}

func newServer(in io.Reader, out io.Writer, opts Options) *Server {
	s := &Server{opts: opts, conn: newConn(in, out, opts.MaxMessage), docs: map[string]*document{}, projects: map[string]*Analyzer{},
		published: map[string][]string{}, timers: map[string]*time.Timer{}}
	s.h = protocol.Handler{
		Initialize:                      s.initialize,
		Initialized:                     func(*glsp.Context, *protocol.InitializedParams) error { return nil },
		Shutdown:                        s.shutdownReq,
		Exit:                            func(*glsp.Context) error { s.exit = true; return nil },
		SetTrace:                        func(*glsp.Context, *protocol.SetTraceParams) error { return nil },
		CancelRequest:                   func(*glsp.Context, *protocol.CancelParams) error { return nil },
		TextDocumentDidOpen:             s.didOpen,
		TextDocumentDidChange:           s.didChange,
		TextDocumentDidSave:             s.didSave,
		TextDocumentDidClose:            s.didClose,
		WorkspaceDidChangeWatchedFiles:  s.didChangeWatched,
		WorkspaceDidChangeConfiguration: func(*glsp.Context, *protocol.DidChangeConfigurationParams) error { return nil },
		TextDocumentHover:               s.hover,
		TextDocumentDefinition:          s.definition,
		TextDocumentReferences:          s.references,
		TextDocumentCompletion:          s.completion,
		TextDocumentPrepareRename:       s.prepareRename,
		TextDocumentRename:              s.rename,
		TextDocumentFormatting:          s.formatting,
		TextDocumentDocumentSymbol:      s.documentSymbol,
		WorkspaceSymbol:                 s.workspaceSymbol,
		TextDocumentCodeAction:          s.codeAction,
		TextDocumentSemanticTokensFull:  s.semanticTokens,
	}
	return s
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Log != nil {
		fmt.Fprintf(s.opts.Log, "campc lsp: "+format+"\n", args...)
	}
}

func (s *Server) loop(ctx context.Context) error {
	defer s.stopTimers()
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		body, err := s.conn.read()
		var big *tooLarge
		switch {
		case errors.As(err, &big):
			s.logf("%v", big)
			// The id is in the skipped body: the error goes out without one.
			s.conn.reply(nil, nil, &rpcError{Code: codeInvalidRequest, Message: "campc lsp: " + big.Error()})
			s.showError("campc lsp: a message of %d bytes was refused (the limit is %d bytes); the document it carried is not up to date: close and reopen it", big.size, big.max)
			continue
		case err == io.EOF:
			if s.exit {
				return nil
			}
			return io.ErrUnexpectedEOF
		case err != nil:
			return err
		}
		if s.handle(body) {
			if s.shutdown {
				return nil
			}
			return errors.New("campc lsp: exit without shutdown")
		}
	}
}

func (s *Server) stopTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.timers {
		t.Stop()
	}
}

// handle answers one message; it reports whether the client asked to exit.
func (s *Server) handle(body []byte) bool {
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		s.conn.reply(nil, nil, &rpcError{Code: codeParseError, Message: "campc lsp: the message is not JSON: " + err.Error()})
		return false
	}
	isReq := m.ID != nil && string(*m.ID) != "null"
	if m.Method == "" {
		if isReq && m.Result == nil && m.Error == nil {
			s.conn.reply(m.ID, nil, &rpcError{Code: codeInvalidRequest, Message: "campc lsp: a request needs a method"})
		}
		return false // a response: the server sends no requests
	}
	if m.JSONRPC != "2.0" {
		if isReq {
			s.conn.reply(m.ID, nil, &rpcError{Code: codeInvalidRequest, Message: fmt.Sprintf("campc lsp: jsonrpc must be \"2.0\", not %q", m.JSONRPC)})
		}
		return false
	}
	if m.ID != nil && !validID(*m.ID) {
		s.conn.reply(nil, nil, &rpcError{Code: codeInvalidRequest, Message: "campc lsp: a request id is a number or a string"})
		return false
	}
	if m.Method == string(protocol.MethodExit) {
		// Not through glsp's dispatch, which after shutdown counts the
		// server as uninitialized and would refuse it.
		s.exit = true
		return true
	}
	result, rerr := s.dispatch(m.Method, m.Params)
	if isReq {
		s.conn.reply(m.ID, result, rerr)
	} else if rerr != nil && rerr.Code != codeMethodNotFound {
		s.logf("%s: %s", m.Method, rerr.Message)
	}
	return false
}

func validID(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch v.(type) {
	case string, float64:
		return true
	}
	return false
}

// dispatch runs one method under the server's lock; a panic becomes an
// error reply, so one bad request cannot take the server down.
func (s *Server) dispatch(method string, params json.RawMessage) (result any, rerr *rpcError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			s.logf("panic in %s: %v\n%s", method, r, debug.Stack())
			result, rerr = nil, &rpcError{Code: codeInternalError, Message: fmt.Sprintf("campc lsp: internal error in %s: %v", method, r)}
		}
	}()
	if s.shutdown && method != string(protocol.MethodExit) {
		return nil, &rpcError{Code: codeInvalidRequest, Message: "campc lsp: the server is shut down"}
	}
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	ctx := &glsp.Context{Method: method, Params: params, Notify: func(m string, p any) { s.conn.notify(m, p) }}
	r, validMethod, validParams, err := s.h.Handle(ctx)
	switch {
	case !validMethod:
		return nil, &rpcError{Code: codeMethodNotFound, Message: fmt.Sprintf("campc lsp: method %q is not supported", method)}
	case !validParams:
		return nil, &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("campc lsp: bad parameters for %s: %v", method, err)}
	case err != nil:
		var re *rpcError
		if errors.As(err, &re) {
			return nil, re
		}
		if !s.h.IsInitialized() {
			return nil, &rpcError{Code: codeServerNotInit, Message: "campc lsp: " + err.Error()}
		}
		return nil, &rpcError{Code: codeRequestFailed, Message: "campc lsp: " + err.Error()}
	}
	return r, nil
}

func (s *Server) showError(format string, args ...any) {
	s.conn.notify(string(protocol.ServerWindowShowMessage), protocol.ShowMessageParams{Type: protocol.MessageTypeError, Message: fmt.Sprintf(format, args...)})
}

func (s *Server) initialize(_ *glsp.Context, p *protocol.InitializeParams) (any, error) {
	for _, f := range p.WorkspaceFolders {
		if path, err := uriToPath(f.URI); err == nil {
			s.roots = append(s.roots, path)
		}
	}
	if len(s.roots) == 0 && p.RootURI != nil {
		if path, err := uriToPath(*p.RootURI); err == nil {
			s.roots = append(s.roots, path)
		}
	}
	if len(s.roots) == 0 && p.RootPath != nil && *p.RootPath != "" {
		s.roots = append(s.roots, filepath.Clean(*p.RootPath))
	}
	sync := protocol.TextDocumentSyncKindIncremental
	yes := true
	version := "dev"
	return protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			TextDocumentSync: protocol.TextDocumentSyncOptions{OpenClose: &yes, Change: &sync,
				Save: protocol.SaveOptions{IncludeText: new(bool)}},
			HoverProvider:              true,
			DefinitionProvider:         true,
			ReferencesProvider:         true,
			CompletionProvider:         &protocol.CompletionOptions{TriggerCharacters: []string{"\"", "{", ".", " "}},
			RenameProvider:             protocol.RenameOptions{PrepareProvider: &yes},
			DocumentFormattingProvider: true,
			DocumentSymbolProvider:     true,
			WorkspaceSymbolProvider:    true,
			CodeActionProvider:         protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{protocol.CodeActionKindQuickFix}},
			SemanticTokensProvider:     protocol.SemanticTokensOptions{Legend: semanticLegend(), Full: true},
		},
		ServerInfo: &protocol.InitializeResultServerInfo{Name: "campc", Version: &version},
	}, nil
}

func (s *Server) shutdownReq(*glsp.Context) error {
	s.shutdown = true
	for _, t := range s.timers {
		t.Stop()
	}
	return nil
}

// uriToPath converts a file URI to a clean absolute path.
func uriToPath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("bad document URI %q: %v", uri, err)
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("document URI %q is not a file: URI", uri)
	}
	p := u.Path
	if p == "" {
		return "", fmt.Errorf("document URI %q has no path", uri)
	}
	return filepath.Clean(filepath.FromSlash(p)), nil
}

func pathToURI(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// project is the analyzer of the project that holds file: the deepest
// workspace folder of the editor that holds it, else the file's folder.
func (s *Server) project(file string) *Analyzer {
	root := filepath.Dir(file)
	best := ""
	for _, r := range s.roots {
		if a := (&Analyzer{Root: r}); a.Contains(file) && len(r) > len(best) {
			best = r
		}
	}
	if best != "" {
		root = best
	}
	a := s.projects[root]
	if a == nil {
		a = NewAnalyzer(root, s.opts.Zones)
		s.projects[root] = a
	}
	return a
}

func (s *Server) docFile(uri string) (string, error) {
	f, err := uriToPath(uri)
	if err != nil {
		return "", err
	}
	if filepath.Ext(f) != ".camp" {
		return "", fmt.Errorf("%s is not a .camp file", f)
	}
	return f, nil
}

func (s *Server) didOpen(_ *glsp.Context, p *protocol.DidOpenTextDocumentParams) error {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return err
	}
	d := &document{uri: p.TextDocument.URI, file: f, version: p.TextDocument.Version, text: p.TextDocument.Text}
	s.docs[f] = d
	a := s.project(f)
	a.SetOverlay(f, d.text)
	s.publish(a)
	return nil
}

func (s *Server) didChange(_ *glsp.Context, p *protocol.DidChangeTextDocumentParams) error {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return err
	}
	d := s.docs[f]
	if d == nil {
		return fmt.Errorf("%s changed but was never opened", f)
	}
	text := d.text
	for i, ch := range p.ContentChanges {
		if text, err = applyChange(text, ch); err != nil {
			s.showError("campc lsp: a change to %s was refused (change %d: %v); close and reopen the file", f, i+1, err)
			return err
		}
		if len(text) > maxDocument {
			s.showError("campc lsp: %s would be larger than %d bytes; the change was refused", f, maxDocument)
			return fmt.Errorf("document larger than %d bytes", maxDocument)
		}
	}
	d.text, d.version = text, p.TextDocument.Version
	a := s.project(f)
	a.SetOverlay(f, d.text)
	s.schedule(a)
	return nil
}

// schedule publishes a project's diagnostics after the debounce pause.
func (s *Server) schedule(a *Analyzer) {
	if s.opts.Debounce <= 0 {
		s.publish(a)
		return
	}
	if t := s.timers[a.Root]; t != nil {
		t.Reset(s.opts.Debounce)
		return
	}
	s.timers[a.Root] = time.AfterFunc(s.opts.Debounce, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.shutdown {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				s.logf("panic publishing diagnostics: %v\n%s", r, debug.Stack())
			}
		}()
		s.publish(a)
	})
}

func (s *Server) didSave(_ *glsp.Context, p *protocol.DidSaveTextDocumentParams) error {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return err
	}
	a := s.project(f)
	a.Invalidate()
	s.publish(a)
	return nil
}

func (s *Server) didClose(_ *glsp.Context, p *protocol.DidCloseTextDocumentParams) error {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return err
	}
	delete(s.docs, f)
	a := s.project(f)
	a.DropOverlay(f) // back to what is on disk
	s.publish(a)
	return nil
}

func (s *Server) didChangeWatched(*glsp.Context, *protocol.DidChangeWatchedFilesParams) error {
	roots := make([]string, 0, len(s.projects))
	for r := range s.projects {
		roots = append(roots, r)
	}
	slices.Sort(roots)
	for _, r := range roots {
		s.projects[r].Invalidate()
		s.publish(s.projects[r])
	}
	return nil
}

// publish sends the diagnostics of every file of a project, and clears
// those of files that had some and now have none or left the project.
func (s *Server) publish(a *Analyzer) {
	an := a.Analyze()
	if t := s.timers[a.Root]; t != nil {
		t.Stop()
	}
	files := make([]string, 0, len(an.Diags))
	for f := range an.Diags {
		files = append(files, f)
	}
	slices.Sort(files)
	var now []string
	for _, f := range files {
		ds := an.Diags[f]
		if len(ds) > 0 {
			now = append(now, f)
		} else if !slices.Contains(s.published[a.Root], f) && s.docs[f] == nil {
			continue // clean before, clean now
		}
		s.sendDiags(an, f, ds)
	}
	for _, f := range s.published[a.Root] {
		if _, ok := an.Diags[f]; !ok {
			s.sendDiags(an, f, nil)
		}
	}
	s.published[a.Root] = now
}

func (s *Server) sendDiags(an *Analysis, f string, ds []*lang.Diagnostic) {
	out := make([]protocol.Diagnostic, 0, len(ds))
	for _, d := range ds {
		out = append(out, s.toDiag(an, d))
	}
	p := protocol.PublishDiagnosticsParams{URI: pathToURI(f), Diagnostics: out}
	if d := s.docs[f]; d != nil {
		v := protocol.UInteger(max(d.version, 0))
		p.Version = &v
		p.URI = d.uri
	}
	s.conn.notify(string(protocol.ServerTextDocumentPublishDiagnostics), p)
}

// diagData is what a diagnostic carries for its code actions.
type diagData struct {
	Suggestion string `json:"suggestion,omitempty"`
}

func (s *Server) toDiag(an *Analysis, d *lang.Diagnostic) protocol.Diagnostic {
	l := an.diagLines(d.Start.Filename)
	sev := protocol.DiagnosticSeverityWarning
	if d.Severity == lang.SeverityError {
		sev = protocol.DiagnosticSeverityError
	}
	source := "campc"
	out := protocol.Diagnostic{
		Range:    rangeOf(l, d.Start, d.End),
		Severity: &sev,
		Code:     &protocol.IntegerOrString{Value: string(d.Code)},
		Source:   &source,
		Message:  d.Message,
	}
	if d.Suggestion != "" {
		out.Data = diagData{Suggestion: d.Suggestion}
	}
	for _, r := range d.Related {
		file := r.Start.Filename
		if file == "" {
			file = d.Start.Filename
		}
		rl := an.diagLines(file)
		out.RelatedInformation = append(out.RelatedInformation, protocol.DiagnosticRelatedInformation{
			Location: protocol.Location{URI: s.uriOf(file), Range: rangeOf(rl, r.Start, r.End)},
			Message:  r.Message,
		})
	}
	return out
}

func (s *Server) uriOf(file string) string {
	if d := s.docs[file]; d != nil {
		return d.uri
	}
	return pathToURI(file)
}

func rangeOf(l *lines, start, end lang.Position) protocol.Range {
	a, b := l.irOffset(start), l.irOffset(end)
	if b < a {
		b = a
	}
	return protocol.Range{Start: l.pos(a), End: l.pos(b)}
}

// diagLines are the lines of the text a file's diagnostics are placed in.
func (an *Analysis) diagLines(file string) *lines {
	if an.Stale[file] {
		if an.curLines == nil {
			an.curLines = map[string]*lines{}
		}
		l := an.curLines[file]
		if l == nil {
			l = newLines(an.diagText(file))
			an.curLines[file] = l
		}
		return l
	}
	return an.lines(file)
}
