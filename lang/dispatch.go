package lang

import (
	"fmt"
	"reflect"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// participle parses a union (Step, Decl, …) by trying its alternatives in
// order, each on a heap branch with a node allocated for it, so that most
// of a parse went into alternatives that fail on their first word. The hot
// unions below implement participle.Parseable instead: they look at the
// first word and hand the alternatives that can start with it, in the
// union's order, to a participle parser of their own; participle still
// does the parsing, and the choosing among what is left.
//
// For a file that parses this is exact: an alternative left out would
// have failed on the first token without consuming it, and such a failure
// (like the no-match a union now reports for a token none can start with)
// changes no outcome of participle's, only its bookkeeping of which error
// to report. So errors are not exact, and on any error Parse parses the
// file again with the reference grammar (internal/refgrammar: ast.go's
// types without these methods) and reports what participle reports there.
// TestDispatchTags checks the tables below against the grammar,
// TestDispatchMatchesReference and FuzzDispatch the trees.

// parserLookahead is participle's lookahead for this grammar.
const parserLookahead = 6

var (
	parserOpts    = []participle.Option{participle.Lexer(campLexer), participle.Elide("Comment", "Whitespace"), participle.UseLookahead(parserLookahead)}
	allowTrailing = participle.AllowTrailing(true)
)

// subParse parses one T at lex's position. On an error it leaves lex where
// participle's disjunction would: past the error if the failed branch got
// further than the lookahead (participle then gives up on the union), else
// where it started.
func subParse[T any](p *participle.Parser[T], lex *lexer.PeekingLexer) (*T, error) {
	start := lex.MakeCheckpoint()
	v, err := p.ParseFromLexer(lex, allowTrailing)
	if err != nil {
		if lex.Cursor() <= start.Cursor()+parserLookahead {
			lex.LoadCheckpoint(start)
		}
		return nil, err
	}
	return v, nil
}

// alt parses the alternatives of a union that one first word can start.
type alt struct {
	parse  func(*lexer.PeekingLexer) (reflect.Value, error) // a pointer to the parsed node
	typ    reflect.Type                                     // its type
	field  string                                           // the union's field it fills, or "" for a group
	index  int                                              // that field's index
	fields [][2]int                                         // for a group: its field, the union's field
}

// node is an alternative that is a node of its own: the union's field of
// that name (tagged @@) gets it.
func node[T any](field string) alt {
	a := group[T]()
	a.field = field
	return a
}

// group is several alternatives, or one that is no node of its own: T's
// fields are the union's fields of the same names and tags, in its order.
func group[T any]() alt {
	p := participle.MustBuild[T](parserOpts...)
	return alt{typ: reflect.TypeFor[T](), parse: func(lex *lexer.PeekingLexer) (reflect.Value, error) {
		v, err := subParse(p, lex)
		return reflect.ValueOf(v), err
	}}
}

// choice is a union's dispatch on its first word.
type choice struct {
	union  reflect.Type
	byWord map[string]*alt
	ident  *alt // any other identifier; nil when none can start the union
}

func newChoice[U any](byWord map[string]alt, ident *alt) *choice {
	c := &choice{union: reflect.TypeFor[U](), byWord: map[string]*alt{}}
	resolve := func(a alt) *alt {
		if a.field != "" {
			f, ok := c.union.FieldByName(a.field)
			if !ok || f.Type != reflect.PointerTo(a.typ) {
				panic(fmt.Sprintf("%s has no field %s of type *%s", c.union, a.field, a.typ))
			}
			a.index = f.Index[0]
			return &a
		}
		for i := range a.typ.NumField() {
			sf := a.typ.Field(i)
			f, ok := c.union.FieldByName(sf.Name)
			if !ok || f.Type != sf.Type {
				panic(fmt.Sprintf("%s has no field %s of type %s", c.union, sf.Name, sf.Type))
			}
			a.fields = append(a.fields, [2]int{i, f.Index[0]})
		}
		return &a
	}
	for w, a := range byWord {
		c.byWord[w] = resolve(a)
	}
	if ident != nil {
		c.ident = resolve(*ident)
	}
	return c
}

// parse parses the union u (a pointer) at lex and sets its positions as
// participle does: Pos at the first token, EndPos just after the last.
func (c *choice) parse(u any, pos, end *lexer.Position, lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != tokIdent {
		return participle.NextMatch
	}
	a := c.byWord[t.Value]
	if a == nil {
		if a = c.ident; a == nil {
			return participle.NextMatch
		}
	}
	start := t.Pos
	v, err := a.parse(lex)
	if err != nil {
		return err
	}
	uv := reflect.ValueOf(u).Elem()
	if a.field != "" {
		uv.Field(a.index).Set(v)
	} else {
		v = v.Elem()
		for _, f := range a.fields {
			uv.Field(f[1]).Set(v.Field(f[0]))
		}
	}
	*pos, *end = start, lex.RawPeek().Pos
	return nil
}

// onWords is a for each of several first words.
func onWords(a alt, ws ...string) map[string]alt {
	m := map[string]alt{}
	for _, w := range ws {
		m[w] = a
	}
	return m
}

// merge joins tables of first words.
func merge(ms ...map[string]alt) map[string]alt {
	out := map[string]alt{}
	for _, m := range ms {
		for w, a := range m {
			out[w] = a
		}
	}
	return out
}

// The groups: the alternatives that share a first word, with the union's
// field names and tags (TestDispatchTags keeps them in step).

// declOther is what any other identifier starts: a campaign (batch,
// trigger, executable, …) or an unknown word.
type declOther struct {
	Campaign *CampaignDecl `parser:"  @@"`
	Unknown  *UnknownDecl  `parser:"| @@"`
}

type itemDescription struct {
	Description *Str `parser:"'description' @@"`
}

type sliFilter struct {
	Filter *Cond `parser:"'filter' @@"`
}

type sliLogic struct {
	Logic *Logic `parser:"'logic' @@"`
}

type condNot struct {
	Member   *MemberCond   `parser:"  @@"`
	Activity *ActivityCond `parser:"| @@"`
}

type condMember struct {
	Member *MemberCond `parser:"  @@"`
	Field  *FieldCond  `parser:"| @@"`
}

type condActivity struct {
	Activity *ActivityCond `parser:"  @@"`
	Field    *FieldCond    `parser:"| @@"`
}

type condRandom struct {
	Sample *Num       `parser:"  'random' 'sample' @@ 'percent'"`
	Field  *FieldCond `parser:"| @@"`
}

type stepChange struct {
	ChangeScore  *ChangeScore  `parser:"  @@"`
	ChangeData   *ChangeData   `parser:"| @@"`
	ChangeStatus *ChangeStatus `parser:"| @@"`
	ChangePart   *Str          `parser:"| 'change' 'person' 'partition' 'to' @@"`
	ChangeOwner  *ChangeOwner  `parser:"| @@"`
}

type stepAdd struct {
	AddToList  *Str               `parser:"  'add' 'to' 'list' @@"`
	AddMoment  *Moment            `parser:"| 'add' @@"`
	Engagement *EngagementProgram `parser:"| @@"`
}

type stepRemove struct {
	RemoveFromList *Str            `parser:"  'remove' 'from' 'list' @@"`
	RemoveFromFlow *RemoveFromFlow `parser:"| @@"`
}

type stepSend struct {
	SendEmail *Str       `parser:"  'send' 'email' @@"`
	SendAlert *SendAlert `parser:"| @@"`
}

type stepCall struct {
	CallWebhook *Str `parser:"'call' 'webhook' @@"`
}

type stepRequest struct {
	Request *CampaignRef `parser:"'request' 'campaign' @@"`
}

type stepDelete struct {
	DeletePerson bool `parser:"@('delete' 'person')"`
}

type stepSync struct {
	SyncToCRM bool `parser:"@('sync' 'person' 'to' 'CRM')"`
}

var (
	declChoice = newChoice[Decl](map[string]alt{
		"field":     node[FieldDecl]("Field"),
		"partition": node[PartitionDecl]("Partition"),
		"folder":    node[FolderDecl]("Folder"),
		"program":   node[ProgramDecl]("Program"),
		"statuses":  node[StatusesDecl]("Statuses"),
		"token":     node[TokenDecl]("Token"),
		"list":      node[ListDecl]("List"),
		"smart":     node[SmartListDecl]("SmartList"),
		"email":     node[EmailDecl]("Email"),
		"webhook":   node[WebhookDecl]("Webhook"),
		"form":      node[FormDecl]("Form"),
		"web":       node[WebPageDecl]("WebPage"),
	}, ptr(group[declOther]()))

	itemChoice = newChoice[CampaignItem](merge(map[string]alt{
		"smart":       node[SmartListBlock]("SmartList"),
		"flow":        node[Flow]("Flow"),
		"run":         node[Run]("Run"),
		"qualify":     node[Qualify]("Qualify"),
		"description": group[itemDescription](),
	}, onWords(node[Activation]("Activation"), "active", "inactive")), ptr(node[UnknownItem]("Unknown")))

	sliChoice = newChoice[SmartListItem](map[string]alt{
		"trigger": node[Trigger]("Trigger"),
		"filter":  group[sliFilter](),
		"logic":   group[sliLogic](),
	}, ptr(node[UnknownSLine]("Unknown")))

	condChoice = newChoice[Cond](merge(map[string]alt{
		"not":    group[condNot](),
		"member": group[condMember](),
		"random": group[condRandom](),
	}, onWords(group[condActivity](), "campaign", "was", "filled", "data", "opened", "clicked", "visited", "email", "unsubscribed")),
		ptr(node[FieldCond]("Field")))

	stepChoice = newChoice[Step](map[string]alt{
		"change":      group[stepChange](),
		"add":         group[stepAdd](),
		"remove":      group[stepRemove](),
		"send":        group[stepSend](),
		"interesting": node[Moment]("Moment"),
		"wait":        node[Wait]("Wait"),
		"call":        group[stepCall](),
		"request":     group[stepRequest](),
		"execute":     node[Execute]("Execute"),
		"delete":      group[stepDelete](),
		"if":          node[If]("If"),
		"sync":        group[stepSync](),
		"create":      node[CreateTask]("CreateTask"),
	}, ptr(node[UnknownStep]("Unknown")))
)

// ptr is a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// Parse implements participle.Parseable (see the top of this file).
func (d *Decl) Parse(lex *lexer.PeekingLexer) error {
	return declChoice.parse(d, &d.Pos, &d.EndPos, lex)
}

// Parse implements participle.Parseable (see the top of this file).
func (c *CampaignItem) Parse(lex *lexer.PeekingLexer) error {
	return itemChoice.parse(c, &c.Pos, &c.EndPos, lex)
}

// Parse implements participle.Parseable (see the top of this file).
func (s *SmartListItem) Parse(lex *lexer.PeekingLexer) error {
	return sliChoice.parse(s, &s.Pos, &s.EndPos, lex)
}

// Parse implements participle.Parseable (see the top of this file).
func (c *Cond) Parse(lex *lexer.PeekingLexer) error {
	return condChoice.parse(c, &c.Pos, &c.EndPos, lex)
}

// Parse implements participle.Parseable (see the top of this file).
func (s *Step) Parse(lex *lexer.PeekingLexer) error {
	return stepChoice.parse(s, &s.Pos, &s.EndPos, lex)
}

// The one-token nodes parse their token themselves: participle spent a
// node, its positions and a capture on each.

// oneToken consumes the next token if it has one of the types and returns
// it with the position after it, as participle's @Type capture would.
func oneToken(lex *lexer.PeekingLexer, pos, end *lexer.Position, types ...lexer.TokenType) (string, bool) {
	t := lex.Peek()
	for _, typ := range types {
		if t.Type == typ {
			*pos = t.Pos
			lex.Next()
			*end = lex.RawPeek().Pos
			return t.Value, true
		}
	}
	return "", false
}

// Parse implements participle.Parseable: @Ident.
func (i *Ident) Parse(lex *lexer.PeekingLexer) error {
	var ok bool
	if i.Name, ok = oneToken(lex, &i.Pos, &i.EndPos, tokIdent); !ok {
		return participle.NextMatch
	}
	return nil
}

// Parse implements participle.Parseable: @String.
func (s *Str) Parse(lex *lexer.PeekingLexer) error {
	var ok bool
	if s.Raw, ok = oneToken(lex, &s.Pos, &s.EndPos, tokString); !ok {
		return participle.NextMatch
	}
	return nil
}

// Parse implements participle.Parseable: @Number.
func (n *Num) Parse(lex *lexer.PeekingLexer) error {
	var ok bool
	if n.Raw, ok = oneToken(lex, &n.Pos, &n.EndPos, tokNumber); !ok {
		return participle.NextMatch
	}
	return nil
}

// Parse implements participle.Parseable: @(DateTime | Date).
func (t *TimeLit) Parse(lex *lexer.PeekingLexer) error {
	var ok bool
	if t.Raw, ok = oneToken(lex, &t.Pos, &t.EndPos, tokDateTime, tokDate); !ok {
		return participle.NextMatch
	}
	return nil
}

// Parse implements participle.Parseable: @@Str | @@Num | @@TimeLit |
// @('true' | 'false') | @'null', each of which its token's type decides.
func (v *Value) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	pos := t.Pos
	switch {
	case t.Type == tokString:
		v.Str = new(Str)
		_ = v.Str.Parse(lex)
	case t.Type == tokNumber:
		v.Num = new(Num)
		_ = v.Num.Parse(lex)
	case t.Type == tokDateTime || t.Type == tokDate:
		v.Time = new(TimeLit)
		_ = v.Time.Parse(lex)
	case t.Type == tokIdent && (t.Value == "true" || t.Value == "false"):
		v.Bool = t.Value
		lex.Next()
	case t.Type == tokIdent && t.Value == "null":
		v.Null = true
		lex.Next()
	default:
		return participle.NextMatch
	}
	v.Pos, v.EndPos = pos, lex.RawPeek().Pos
	return nil
}
