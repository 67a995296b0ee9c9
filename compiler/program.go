package compiler

import (
	"fmt"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// What the checker knows about the program's parts while it checks: the
// declarations they come from, scopes and resolution state. It is
// kept here, beside the IR, so that the checked program (package ir) holds
// nothing the engine does not need.

// wsInfo is a workspace's names while it is declared and resolved.
type wsInfo struct {
	fields     map[string]*ir.Field
	assets     *assetScope // file-level lists, smart lists, emails, webhooks, forms
	programs   map[string]*ir.ProgramDef
	campaigns  map[string]*ir.Campaign
	partitions map[string]lang.Position
}

// programInfo is a program's declaration, and a clone's expansion state.
type programInfo struct {
	decl       *lang.ProgramDecl
	body       []*lang.Decl            // the declarations it holds: its own, or its template's
	overrides  []*lang.TokenDecl       // a clone's token overrides, its template's included
	locals     map[string]*ir.Campaign // a clone's campaigns, by their names in the template
	inner      declCtx                 // where a clone's copies are declared
	cloneState int                     // 1 while a clone is expanded, 2 after
	assets     *assetScope
}

// campaignInfo is a campaign's declaration and what resolution learns.
type campaignInfo struct {
	decl     *lang.CampaignDecl
	body     *lang.CampaignBody // the body compiled: its own, or the clone source's
	runAt    lang.Position      // where "run" is written, if it is
	samples  int                // random samples in the flow, for their keys
	activeAt lang.Position      // where "active"/"inactive" is written, if it is
}

// smartListInfo is a smart-list asset's declaration and resolution state.
type smartListInfo struct {
	decl  *lang.SmartListDecl
	ws    *ir.Workspace
	scope *assetScope
	state int            // resolution state, for self-reference detection
	clone *ir.ProgramDef // the cloned program it was copied into, if so
}

// assetInfo is an email's or webhook's declaration.
type assetInfo struct {
	email   *lang.EmailDecl
	webhook *lang.WebhookDecl
	clone   *ir.ProgramDef // the cloned program it was copied into, if so
}

// side holds the checker's tables, keyed by the IR's pointers.
type side struct {
	wsInfo    map[*ir.Workspace]*wsInfo
	progInfo  map[*ir.ProgramDef]*programInfo
	campInfo  map[*ir.Campaign]*campaignInfo
	slInfo    map[*ir.SmartListDef]*smartListInfo
	emailInfo map[*ir.Email]*assetInfo
	hookInfo  map[*ir.Webhook]*assetInfo
	tokenDecl map[*ir.Token]*lang.TokenDecl
	folderAs  map[*ir.Folder]*assetScope
	stepSrc   map[ir.Step]*lang.Step
	branchSrc map[*ir.Branch]*lang.Branch
	refSrc    map[*ir.TokenRef]*lang.TokenRef // the reference as written, for messages
}

func newSide() side {
	return side{
		wsInfo: map[*ir.Workspace]*wsInfo{}, progInfo: map[*ir.ProgramDef]*programInfo{}, campInfo: map[*ir.Campaign]*campaignInfo{},
		slInfo: map[*ir.SmartListDef]*smartListInfo{}, emailInfo: map[*ir.Email]*assetInfo{}, hookInfo: map[*ir.Webhook]*assetInfo{},
		tokenDecl: map[*ir.Token]*lang.TokenDecl{}, folderAs: map[*ir.Folder]*assetScope{}, stepSrc: map[ir.Step]*lang.Step{},
		branchSrc: map[*ir.Branch]*lang.Branch{}, refSrc: map[*ir.TokenRef]*lang.TokenRef{},
	}
}

func (c *checker) ws(ws *ir.Workspace) *wsInfo           { return c.wsInfo[ws] }
func (c *checker) prg(p *ir.ProgramDef) *programInfo     { return c.progInfo[p] }
func (c *checker) cmp(cp *ir.Campaign) *campaignInfo     { return c.campInfo[cp] }
func (c *checker) sl(sl *ir.SmartListDef) *smartListInfo { return c.slInfo[sl] }

// assetScope holds the lists, smart lists, emails, webhooks and forms
// declared at one level: the workspace's files, a folder, or a program.
// Names resolve from the innermost scope outwards, so two programs may each
// have an email "Invitation".
type assetScope struct {
	Parent     *assetScope
	path       string         // "Folder/Program/" below the workspace
	program    *ir.ProgramDef // the program whose scope this is, if one
	lists      map[string]*ir.List
	smartLists map[string]*ir.SmartListDef
	emails     map[string]*ir.Email
	webhooks   map[string]*ir.Webhook
	forms      map[string]*ir.Form
	webPages   map[string]*ir.WebPage
}

func newAssetScope(parent *assetScope, path string) *assetScope {
	return &assetScope{Parent: parent, path: path, lists: map[string]*ir.List{}, smartLists: map[string]*ir.SmartListDef{},
		emails: map[string]*ir.Email{}, webhooks: map[string]*ir.Webhook{}, forms: map[string]*ir.Form{}, webPages: map[string]*ir.WebPage{}}
}

// find looks a name up from s outwards.
func find[V any](s *assetScope, pick func(*assetScope) map[string]V, name string) (V, bool) {
	for ; s != nil; s = s.Parent {
		if v, ok := pick(s)[name]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// visible lists the names seen from s, for suggestions.
func visible[V any](s *assetScope, pick func(*assetScope) map[string]V) []string {
	var out []string
	for ; s != nil; s = s.Parent {
		out = append(out, names(pick(s))...)
	}
	return out
}

func pickLists(s *assetScope) map[string]*ir.List              { return s.lists }
func pickSmartLists(s *assetScope) map[string]*ir.SmartListDef { return s.smartLists }
func pickEmails(s *assetScope) map[string]*ir.Email            { return s.emails }
func pickWebhooks(s *assetScope) map[string]*ir.Webhook        { return s.webhooks }
func pickForms(s *assetScope) map[string]*ir.Form              { return s.forms }
func pickWebPages(s *assetScope) map[string]*ir.WebPage        { return s.webPages }

// local finds a campaign of a cloned program by the name it has in the
// template: in the clone's text (which is the template's), the template's
// campaign names mean the clone's copies.
func (c *checker) local(p *ir.ProgramDef, ref *lang.CampaignRef) *ir.Campaign {
	if p == nil || ref.Workspace != nil {
		return nil
	}
	pi := c.prg(p)
	if pi == nil || pi.locals == nil {
		return nil
	}
	return pi.locals[ref.Name.Value()]
}

// clonesFrom reports whether name is a program that p is cloned from,
// directly or through a chain: in the clone's text, the template's name
// means the clone.
func clonesFrom(p *ir.ProgramDef, name string) bool {
	if p == nil {
		return false
	}
	for t := p.CloneOf; t != nil; t = t.CloneOf {
		if t.Name == name {
			return true
		}
	}
	return false
}

// programOf is the program whose asset scope s is, or holds s.
func programOf(s *assetScope) *ir.ProgramDef {
	for ; s != nil; s = s.Parent {
		if s.program != nil {
			return s.program
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// Runnable returns the program if it may run: it has no errors, or, when
// lenient, its only errors are invalid smart lists (which then qualify
// nobody).
func (r *Result) Runnable(lenient bool) (*ir.Program, error) {
	if r.Program == nil || (r.errors && !(lenient && r.OnlySmartListErrors())) {
		return nil, fmt.Errorf("the project has errors; run campc check")
	}
	return r.Program, nil
}

func (c *checker) newSmartList(sl *ir.SmartListDef, info *smartListInfo) *ir.SmartListDef {
	c.slInfo[sl] = info
	return sl
}
