package lang

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	ref "github.com/campc/campc/lang/internal/refgrammar"
)

// participle backtracks up to its lookahead when a branch fails, and the
// error it keeps is then placed where the enclosing item began: a bad filter
// inside a smart list is reported at the campaign's first word, lines above
// the mistake. refineSyntax re-parses, one item at a time, the block that
// holds the reported position, descending into the nested block of the item
// that fails, and reports the error of the innermost failing item, which
// names the offending token and what was expected there.

// blockKind is what a brace-delimited block holds.
type blockKind int

const (
	kindNone     blockKind = iota
	kindDecl               // the file after its workspace line, a folder, a program
	kindCampaign           // a campaign body
	kindSmart              // a smart list block or declaration
	kindStep               // a flow, or an if/else block inside one
)

// The item parsers are the reference grammar's, as the error they refine
// is (see dispatch.go).
var (
	declParser     = participle.MustBuild[ref.Decl](parserOpts...)
	campaignParser = participle.MustBuild[ref.CampaignItem](parserOpts...)
	smartParser    = participle.MustBuild[ref.SmartListItem](parserOpts...)
	stepParser     = participle.MustBuild[ref.Step](parserOpts...)
)

// maxRefineItems bounds the work spent placing one error.
const maxRefineItems = 10000

type refiner struct {
	toks  []lexer.Token // significant tokens only, then EOF
	close []int         // for a '{', the index of its matching '}' (or len-1)
	items int
}

// refineSyntax returns a better-placed error than err, or err itself.
func refineSyntax(src string, filename string, err error) error {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return err
	}
	r, ok := newRefiner(filename, src)
	if !ok {
		return err
	}
	at := perr.Position().Offset
	// The token the error names, and the block that holds it.
	i := r.indexAt(at)
	if i < 0 {
		return err
	}
	kind, end := r.enclosing(i)
	if kind == kindNone {
		return err
	}
	if better := r.walk(kind, i, end); better != nil {
		var bp participle.Error
		if errors.As(better, &bp) && bp.Position().Offset >= at {
			return better
		}
	}
	return err
}

func newRefiner(filename, src string) (*refiner, bool) {
	lx, err := campLexer.LexString(filename, src)
	if err != nil {
		return nil, false
	}
	all, err := lexer.ConsumeAll(lx)
	if err != nil {
		return nil, false
	}
	r := &refiner{}
	for _, t := range all {
		if t.Type != tokComment && t.Type != tokWhitespace {
			r.toks = append(r.toks, t)
		}
	}
	if len(r.toks) == 0 || !r.toks[len(r.toks)-1].EOF() {
		return nil, false
	}
	r.close = make([]int, len(r.toks))
	var stack []int
	for i, t := range r.toks {
		switch {
		case isPunct(t, "{"):
			stack = append(stack, i)
		case isPunct(t, "}") && len(stack) > 0:
			r.close[stack[len(stack)-1]] = i
			stack = stack[:len(stack)-1]
		}
	}
	for _, o := range stack {
		r.close[o] = len(r.toks) - 1
	}
	return r, true
}

func isPunct(t lexer.Token, v string) bool { return t.Type == tokPunct && t.Value == v }
func isWord(t lexer.Token, v string) bool  { return t.Type == tokIdent && t.Value == v }

// indexAt is the index of the first significant token at or after offset.
func (r *refiner) indexAt(offset int) int {
	for i, t := range r.toks {
		if t.Pos.Offset >= offset {
			return i
		}
	}
	return -1
}

// enclosing finds the innermost block around token i: its kind and the
// index of its closing brace (EOF for the file).
func (r *refiner) enclosing(i int) (blockKind, int) {
	end := len(r.toks) - 1
	if len(r.toks) < 3 || !isWord(r.toks[0], "workspace") || i < 2 {
		return kindNone, 0
	}
	// Replay the blocks opened before i, keeping a stack of kinds.
	type open struct {
		kind blockKind
		end  int
	}
	stack := []open{{kindDecl, end}}
	for j := 2; j < i; j++ {
		for len(stack) > 1 && j > stack[len(stack)-1].end {
			stack = stack[:len(stack)-1]
		}
		if isPunct(r.toks[j], "{") && r.close[j] >= i {
			stack = append(stack, open{r.headerKind(stack[len(stack)-1].kind, j), r.close[j]})
		}
	}
	top := stack[len(stack)-1]
	return top.kind, top.end
}

// headerKind says what the block opened at token j holds, from the words
// before it, inside a block of kind outer.
func (r *refiner) headerKind(outer blockKind, j int) blockKind {
	at := func(k int) lexer.Token {
		if j-k < 0 {
			return lexer.Token{}
		}
		return r.toks[j-k]
	}
	switch outer {
	case kindDecl:
		switch {
		case at(1).Type == tokString && (isWord(at(2), "program") || isWord(at(2), "folder")):
			return kindDecl
		case at(1).Type == tokString && isWord(at(2), "campaign"):
			return kindCampaign
		case at(1).Type == tokString && isWord(at(2), "list") && isWord(at(3), "smart"):
			return kindSmart
		}
	case kindCampaign:
		switch {
		case isWord(at(1), "flow"):
			return kindStep
		case isWord(at(1), "list") && isWord(at(2), "smart"):
			return kindSmart
		}
	case kindStep:
		return kindStep // the blocks of if, else if and else
	}
	return kindNone
}

// walk parses the items of a block of the given kind one at a time, from
// token i up to the block's closing brace at end, and returns the error of
// the first item that fails, placed as deep as it can be.
func (r *refiner) walk(kind blockKind, i, end int) error {
	for i < end && !isPunct(r.toks[i], "}") {
		if r.items++; r.items > maxRefineItems {
			return nil
		}
		next, err := r.parseItem(kind, i, end)
		if err != nil {
			if deeper := r.descend(kind, i, end); deeper != nil {
				return deeper
			}
			return err
		}
		if next <= i {
			return nil
		}
		i = next
	}
	return nil
}

// descend walks the nested blocks of the failed item that starts at token
// i, if its opening words say what they hold.
func (r *refiner) descend(kind blockKind, i, end int) error {
	for j := i; j < end; j++ {
		t := r.toks[j]
		if isPunct(t, "}") {
			return nil
		}
		if !isPunct(t, "{") {
			continue
		}
		inner := r.headerKind(kind, j)
		if inner == kindNone {
			return nil
		}
		if err := r.walk(inner, j+1, r.close[j]); err != nil {
			return err
		}
		// Only an if/else chain has further blocks worth a look.
		j = r.close[j]
		if kind != kindStep || j+1 >= end || !isWord(r.toks[j+1], "else") {
			return nil
		}
	}
	return nil
}

// parseItem parses one item of the kind at token i and returns the index
// of the token after it.
func (r *refiner) parseItem(kind blockKind, i, end int) (int, error) {
	// Most items are short: parse within a window first, so that placing an
	// error in a long block stays linear; an item cut by the window is
	// parsed again up to the block's end.
	if w := r.window(i, end); w < end {
		next, err := r.parseWithin(kind, i, w)
		var ute *participle.UnexpectedTokenError
		if err == nil && next < w || err != nil && !(errors.As(err, &ute) && ute.Unexpected.Pos.Offset >= r.toks[w].Pos.Offset) {
			return next, err
		}
	}
	return r.parseWithin(kind, i, end)
}

// window is a token index past which the item at i most likely does not
// reach: 64 tokens, stretched to close every block opened before then.
func (r *refiner) window(i, end int) int {
	w := min(i+64, end)
	for j := i; j < w; j++ {
		if isPunct(r.toks[j], "{") {
			w = min(max(w, r.close[j]+8), end)
		}
	}
	return w
}

// parseWithin parses one item of the kind from token i, seeing the tokens
// up to and including end, and returns the index of the token after it.
func (r *refiner) parseWithin(kind blockKind, i, end int) (int, error) {
	// The last token stays in, so that an item cut short is reported at it
	// rather than at an end of file that is not there.
	after := r.toks[end].Pos
	after.Offset += len(r.toks[end].Value)
	after.Column += len(r.toks[end].Value)
	toks := append(r.toks[i:end+1:end+1], lexer.EOFToken(after))
	peek, err := lexer.Upgrade(&sliceLexer{toks: toks})
	if err != nil {
		return 0, err
	}
	var endPos lexer.Position
	switch kind {
	case kindDecl:
		var v *ref.Decl
		if v, err = declParser.ParseFromLexer(peek, participle.AllowTrailing(true)); err == nil {
			endPos = v.EndPos
		}
	case kindCampaign:
		var v *ref.CampaignItem
		if v, err = campaignParser.ParseFromLexer(peek, participle.AllowTrailing(true)); err == nil {
			endPos = v.EndPos
		}
	case kindSmart:
		var v *ref.SmartListItem
		if v, err = smartParser.ParseFromLexer(peek, participle.AllowTrailing(true)); err == nil {
			endPos = v.EndPos
		}
	case kindStep:
		var v *ref.Step
		if v, err = stepParser.ParseFromLexer(peek, participle.AllowTrailing(true)); err == nil {
			endPos = v.EndPos
		}
	default:
		return 0, errors.New("no item parser")
	}
	if err != nil {
		return 0, err
	}
	if kind == kindDecl && endPos.Offset > r.toks[end].Pos.Offset {
		return end, nil
	}
	// EndPos is the position of the token after the item.
	for k := i; k <= end; k++ {
		if r.toks[k].Pos.Offset >= endPos.Offset {
			return k, nil
		}
	}
	return end, nil
}

// sliceLexer replays already-lexed tokens, keeping their positions.
type sliceLexer struct {
	toks []lexer.Token
	i    int
}

func (s *sliceLexer) Next() (lexer.Token, error) {
	if s.i >= len(s.toks) {
		return s.toks[len(s.toks)-1], nil
	}
	s.i++
	return s.toks[s.i-1], nil
}

// keywords are the grammar's literal words, for the hint on a keyword
// written in capitals (Marketo's UI shows "IS NOT EMPTY").
var keywords = func() map[string]bool {
	m := map[string]bool{}
	g := Grammar()
	for i := 0; i < len(g); i++ {
		if g[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(g) && g[j] != '"' {
			j++
		}
		if w := g[i+1 : min(j, len(g))]; w != "" && (w[0] >= 'a' && w[0] <= 'z') {
			m[w] = true
		}
		i = j
	}
	return m
}()

// operatorsExpected replaces participle's view of a field comparison's
// expected continuation, which names only the last alternative it tried.
const operatorsExpected = `an operator (is, is not, is empty, is not empty, [not] contains, [not] starts with, [not] ends with, in [...], not in [...], [not] in past N unit, [not] in next N unit, >, >=, <, <=, between A and B, before D, after D)`

// syntaxHint adds what the author most likely meant to a syntax message
// about the unexpected token tok.
func syntaxHint(msg string, tok lexer.Token, prev lexer.Token) string {
	// participle names the alternatives after "not" it tried last; the
	// author needs the whole list of operators.
	if i := strings.LastIndex(msg, "; expected "); i >= 0 {
		exp := msg[i+len("; expected "):]
		switch {
		case strings.HasPrefix(exp, `(("contains" a value)`):
			msg = msg[:i+len("; expected ")] + operatorsExpected
		case isWord(prev, "not") && strings.HasPrefix(exp, `(("campaign" "was" "executed"`):
			// "not" first negates an activity filter; a field comparison
			// is negated after the field.
			msg = msg[:i+len("; expected ")] + `an activity filter after "not" (not was sent email "E", not filled out form "F", …); a field comparison is negated after the field: Country is not "DE", Email not contains "x"`
		case isWord(prev, "was"):
			// participle names only the last "was …" alternative it tried.
			msg = msg[:i+len("; expected ")] + `an activity filter after "was" (was sent email "E", was added to list "L", …)`
		}
	}
	if tok.Type == tokIdent {
		if low := strings.ToLower(tok.Value); low != tok.Value && keywords[low] {
			msg += fmt.Sprintf(" (keywords are written in lower case: %q)", low)
		}
	}
	if tok.Type == tokNumber && isWord(prev, "by") {
		msg += fmt.Sprintf(" (a score change is quoted: by \"+%s\", \"-%s\" or \"=%s\")", strings.TrimPrefix(tok.Value, "-"), strings.TrimPrefix(tok.Value, "-"), tok.Value)
	}
	return msg
}

// tokenBefore is the significant token before offset in src, if any.
func tokenBefore(filename, src string, offset int) lexer.Token {
	r, ok := newRefiner(filename, src)
	if !ok {
		return lexer.Token{}
	}
	var prev lexer.Token
	for _, t := range r.toks {
		if t.Pos.Offset >= offset {
			break
		}
		prev = t
	}
	return prev
}
