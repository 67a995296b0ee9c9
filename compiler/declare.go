package compiler

import (
	"slices"

	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// declCtx is where a declaration stands.
type declCtx struct {
	ws      *ir.Workspace
	folder  *ir.Folder
	program *ir.ProgramDef
	scope   *ir.Scope   // My Tokens
	assets  *assetScope // lists, smart lists, emails, webhooks, forms
	// clone is set while a template's declarations are copied into the
	// program that clones it: its campaigns are renamed, and its tokens
	// give way to the clone's overrides.
	clone *ir.ProgramDef
}

// named is the name of an asset or campaign declared here: a copy in a
// cloned program is qualified by the program, as Marketo shows local
// assets ("Webinar Feb.Invitation"), so that its log entries, its events
// and the filters that count them tell it from the template's. In the
// copied text it is still found by the template's name.
func (ctx declCtx) named(name string) string {
	if ctx.clone != nil {
		return ctx.clone.Name + "." + name
	}
	return name
}

func (c *checker) workspace(name string) *ir.Workspace {
	if ws := c.workspaces[name]; ws != nil {
		return ws
	}
	ws := &ir.Workspace{Name: name}
	wi := &wsInfo{
		fields:     map[string]*ir.Field{},
		assets:     newAssetScope(nil, ""),
		programs:   map[string]*ir.ProgramDef{},
		campaigns:  map[string]*ir.Campaign{},
		partitions: map[string]lang.Position{},
	}
	c.wsInfo[ws] = wi
	for _, f := range stdlib.BuiltinFields {
		fd := &ir.Field{Name: f.Name, Type: f.Type, Slot: len(ws.Fields), Builtin: true, Display: stdlib.FieldDisplayName(f.Name)}
		ws.Fields = append(ws.Fields, fd)
		wi.fields[f.Name] = fd
	}
	c.workspaces[name] = ws
	return ws
}

func (c *checker) declareFile(f *lang.File) {
	name := f.Workspace.Value()
	if name == "" {
		s, e := rng(f.Workspace.Pos, f.Workspace.EndPos)
		c.errorf(nil, lang.CodeSyntax, s, e, "a workspace needs a name")
	}
	ws := c.workspace(name)
	ctx := declCtx{ws: ws, assets: c.ws(ws).assets}
	for _, d := range f.Decls {
		c.declare(ctx, d)
	}
}

// dup reports a second declaration of a name, pointing at the first.
func (c *checker) dup(what, name string, start, end, first lang.Position) {
	d := c.errorf(nil, lang.CodeDuplicate, start, end, "%s %q is already declared in this scope", what, name)
	if first.Line > 0 {
		d.Related = append(d.Related, lang.Related{Message: "first declared here", Start: first, End: first})
	}
}

func (c *checker) declare(ctx declCtx, d *lang.Decl) {
	ws := ctx.ws
	switch {
	case d.Field != nil:
		c.declareField(ws, d.Field)
	case d.Partition != nil:
		if ctx.folder != nil || ctx.program != nil {
			s, e := rng(d.Pos, d.EndPos)
			c.errorf(nil, lang.CodeSyntax, s, e, "partitions are declared at file level, not inside a folder or program")
			return
		}
		for _, n := range d.Partition.Names {
			s, e := rng(n.Pos, n.EndPos)
			if first, ok := c.ws(ws).partitions[n.Value()]; ok {
				c.dup("partition", n.Value(), s, e, first)
				continue
			}
			c.ws(ws).partitions[n.Value()] = s
			ws.Partitions = append(ws.Partitions, n.Value())
		}
	case d.Folder != nil:
		c.declareFolder(ctx, d.Folder)
	case d.Program != nil:
		c.declareProgram(ctx, d.Program)
	case d.Statuses != nil:
		c.declareStatuses(ctx, d.Statuses)
	case d.Token != nil:
		if ctx.clone != nil && ctx.scope.Tokens[d.Token.Name.Value()] != nil {
			return // overridden by the clone
		}
		c.declareToken(ctx, d.Token)
	case d.List != nil:
		if l, ok := declareAsset(c, "list", ctx.assets.lists, d.List.Name, func(name string, at lang.Position) *ir.List {
			c.nextList++
			return &ir.List{Name: ctx.named(name), Key: ir.Key(ws.Name) + "/" + ctx.assets.path + ir.KeyPart(name), ID: c.nextList - 1, Pos: at}
		}); ok {
			ws.Lists = append(ws.Lists, l)
		}
	case d.SmartList != nil:
		if sl, ok := declareAsset(c, "smart list", ctx.assets.smartLists, d.SmartList.Name, func(name string, at lang.Position) *ir.SmartListDef {
			return c.newSmartList(&ir.SmartListDef{Name: ctx.named(name), ID: len(c.smartLists), Pos: at}, &smartListInfo{decl: d.SmartList, ws: ws, scope: ctx.assets, clone: ctx.clone})
		}); ok {
			c.smartLists = append(c.smartLists, sl)
			ws.SmartLists = append(ws.SmartLists, sl)
		}
	case d.Email != nil:
		if em, ok := declareAsset(c, "email", ctx.assets.emails, d.Email.Name, func(name string, at lang.Position) *ir.Email {
			em := &ir.Email{Name: ctx.named(name), Pos: at}
			c.emailInfo[em] = &assetInfo{email: d.Email, clone: ctx.clone}
			return em
		}); ok {
			ws.Emails = append(ws.Emails, em)
		}
	case d.Webhook != nil:
		if wh, ok := declareAsset(c, "webhook", ctx.assets.webhooks, d.Webhook.Name, func(name string, at lang.Position) *ir.Webhook {
			wh := &ir.Webhook{Name: ctx.named(name), Pos: at}
			c.hookInfo[wh] = &assetInfo{webhook: d.Webhook, clone: ctx.clone}
			return wh
		}); ok {
			ws.Webhooks = append(ws.Webhooks, wh)
		}
	case d.Form != nil:
		if fm, ok := declareAsset(c, "form", ctx.assets.forms, d.Form.Name, func(name string, at lang.Position) *ir.Form {
			return &ir.Form{Name: ctx.named(name), Pos: at}
		}); ok {
			ws.Forms = append(ws.Forms, fm)
		}
	case d.Campaign != nil:
		c.declareCampaign(ctx, d.Campaign)
	case d.WebPage != nil:
		if wp, ok := declareAsset(c, "web page", ctx.assets.webPages, d.WebPage.Name, func(name string, at lang.Position) *ir.WebPage {
			return &ir.WebPage{Name: name, Pos: at}
		}); ok {
			ws.WebPages = append(ws.WebPages, wp)
		}
	case d.Unknown != nil:
		c.unknownWord(nil, d.Unknown.Head, d.Unknown.Tail(), "declaration", stdlib.DeclKeywords)
	}
}

// unknownWord reports a line that starts with a word no rule knows.
// The parser lets an unknown line run on to the next known keyword, so a
// word that starts a later line inside rest is reported as well.
func (c *checker) unknownWord(cp *ir.Campaign, head *lang.Ident, rest []lang.Word, what string, keywords []string) {
	report := func(name string, s, e lang.Position) {
		sug := nearest(name, keywords)
		d := c.errorf(cp, lang.CodeSyntax, s, e, "unknown %s %q%s", what, name, didYouMean(sug, false))
		d.Suggestion = sug
	}
	s, e := rng(head.Pos, head.EndPos)
	report(head.Name, s, e)
	line := head.Pos.Line
	for _, t := range rest {
		if t.Pos.Line > line && isWord(t.Value) {
			p := lang.Pos(t.Pos)
			report(t.Value, p, p.Advance(len(t.Value)))
		}
		line = t.Pos.Line
	}
}

func isWord(s string) bool {
	return s != "" && (s[0] == '_' || (s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z'))
}

func (c *checker) declareField(ws *ir.Workspace, fd *lang.FieldDecl) {
	s, e := rng(fd.Name.Pos, fd.Name.EndPos)
	name := fd.Name.Name
	typ, ok := fieldType(fd.Type.Name)
	if !ok {
		ts, te := rng(fd.Type.Pos, fd.Type.EndPos)
		names := make([]string, len(stdlib.FieldTypes))
		for i, t := range stdlib.FieldTypes {
			names[i] = string(t)
		}
		d := c.errorf(nil, lang.CodeSyntax, ts, te, "unknown field type %q (one of %s)%s", fd.Type.Name, strings.Join(names, ", "), didYouMean(nearest(fd.Type.Name, names), false))
		d.Suggestion = nearest(fd.Type.Name, names)
		return
	}
	if first, ok := c.ws(ws).fields[name]; ok {
		if first.Builtin {
			c.errorf(nil, lang.CodeDuplicate, s, e, "field %s is built in and cannot be declared again", name)
			return
		}
		c.dup("field", name, s, e, first.Pos)
		return
	}
	f := &ir.Field{Name: name, Type: typ, Slot: len(ws.Fields), Pos: s}
	// A people file's heading names a field by its name or its display
	// name, ignoring case: in one workspace each heading names one field.
	for _, other := range ws.Fields {
		if other.Display != "" && strings.EqualFold(other.Display, name) && !strings.EqualFold(other.Name, name) {
			d := c.errorf(nil, lang.CodeDuplicate, s, e, "field name %s is already the display name of field %s (people files match headings ignoring case)", name, other.Name)
			if other.Pos.Line > 0 {
				d.Related = append(d.Related, lang.Related{Message: "declared here", Start: other.Pos, End: other.Pos})
			}
			return
		}
	}
	if fd.Display != nil {
		ds, de := rng(fd.Display.Pos, fd.Display.EndPos)
		display := fd.Display.Value()
		if strings.TrimSpace(display) == "" {
			c.errorf(nil, lang.CodeSyntax, ds, de, "a display name cannot be empty")
			return
		}
		if display != strings.TrimSpace(display) {
			c.errorf(nil, lang.CodeSyntax, ds, de, "display name %q starts or ends with spaces, which people files ignore", display)
			return
		}
		if other := headingOwner(ws, display); other != nil {
			what := "display name"
			if strings.EqualFold(other.Name, display) {
				what = "name"
			}
			d := c.errorf(nil, lang.CodeDuplicate, ds, de, "display name %q is already the %s of field %s (people files match headings ignoring case)", display, what, other.Name)
			if other.Pos.Line > 0 {
				d.Related = append(d.Related, lang.Related{Message: "declared here", Start: other.Pos, End: other.Pos})
			}
			return
		}
		f.Display = display
	}
	c.ws(ws).fields[name] = f
	ws.Fields = append(ws.Fields, f)
	c.refIdent(nil, fd.Name, f, true)
}

// headingOwner finds the field of the workspace that a people file's
// heading names (its name or display name, ignoring case), or nil.
func headingOwner(ws *ir.Workspace, heading string) *ir.Field {
	for _, f := range ws.Fields {
		if strings.EqualFold(f.Name, heading) || f.Display != "" && strings.EqualFold(f.Display, heading) {
			return f
		}
	}
	return nil
}

func fieldType(name string) (stdlib.FieldType, bool) {
	for _, t := range stdlib.FieldTypes {
		if string(t) == name {
			return t, true
		}
	}
	return "", false
}

func (c *checker) declareFolder(ctx declCtx, fd *lang.FolderDecl) {
	s, _ := rng(fd.Name.Pos, fd.Name.EndPos)
	if ctx.program != nil {
		e := lang.Pos(fd.Name.EndPos)
		c.errorf(nil, lang.CodeSyntax, s, e, "a folder cannot stand inside a program")
		return
	}
	name := fd.Name.Value()
	key := folderKey{parent: ctx.folder, ws: ctx.ws, name: name}
	if c.folders == nil {
		c.folders = map[folderKey]*ir.Folder{}
	}
	f := c.folders[key]
	if f == nil {
		// A folder may be written in several files; they add up to one.
		f = &ir.Folder{Name: name, Parent: ctx.folder, Pos: s,
			Scope: &ir.Scope{Owner: "folder " + quote(name), Tokens: map[string]*ir.Token{}, Parent: ctx.scope}}
		c.folderAs[f] = newAssetScope(ctx.assets, ctx.assets.path+ir.KeyPart(name)+"/")
		c.folders[key] = f
		ctx.ws.Folders = append(ctx.ws.Folders, f)
	}
	c.refStr(nil, fd.Name, f, true)
	inner := declCtx{ws: ctx.ws, folder: f, scope: f.Scope, assets: c.folderAs[f]}
	for _, d := range fd.Decls {
		c.declare(inner, d)
	}
}

func (c *checker) declareProgram(ctx declCtx, pd *lang.ProgramDecl) {
	s, e := rng(pd.Name.Pos, pd.Name.EndPos)
	if ctx.program != nil {
		c.errorf(nil, lang.CodeSyntax, s, e, "a program cannot stand inside another program")
		return
	}
	name := pd.Name.Value()
	if first, ok := c.ws(ctx.ws).programs[name]; ok {
		c.dup("program", name, s, e, first.Pos)
		return
	}
	p := &ir.ProgramDef{Name: name, Key: ir.Key(ctx.ws.Name, name), ID: len(ctx.ws.Programs) + 1, Folder: ctx.folder, Pos: s,
		Scope: &ir.Scope{Owner: "program " + quote(name), Tokens: map[string]*ir.Token{}, Parent: ctx.scope}}
	pi := &programInfo{decl: pd, body: pd.Decls, assets: newAssetScope(ctx.assets, ctx.assets.path+ir.KeyPart(name)+"/")}
	pi.assets.program = p
	c.progInfo[p] = pi
	c.refStr(nil, pd.Name, p, true)
	c.ws(ctx.ws).programs[name] = p
	ctx.ws.Programs = append(ctx.ws.Programs, p)
	inner := declCtx{ws: ctx.ws, folder: ctx.folder, program: p, scope: p.Scope, assets: pi.assets}
	if pd.Clone != nil {
		// Copied once every file is declared: the template may come later.
		pi.inner = inner
		c.clones = append(c.clones, p)
		return
	}
	for _, d := range pd.Decls {
		c.declare(inner, d)
	}
}

// expandClones copies every program template into the programs that
// clone it, templates first.
func (c *checker) expandClones() {
	for _, p := range c.clones {
		c.expandClone(p, nil)
	}
}

// expandClone fills program p, declared "program "P" clone "T" { token … }":
// its token overrides, then T's overrides and declarations (T expanded
// first when it is a clone itself). chain is the clones being expanded,
// for cycles.
func (c *checker) expandClone(p *ir.ProgramDef, chain []*ir.ProgramDef) {
	pi := c.prg(p)
	if pi.cloneState == 2 {
		return
	}
	ref := pi.decl.Clone
	s, e := rng(ref.Pos, ref.EndPos)
	if pi.cloneState == 1 {
		var names []string
		for _, q := range chain[slices.Index(chain, p):] {
			names = append(names, quote(q.Name))
		}
		c.errorf(nil, lang.CodeCloneCycle, s, e, "program %q is cloned from itself: %s -> %s", p.Name, strings.Join(names, " -> "), quote(p.Name))
		return
	}
	pi.cloneState = 1
	defer func() { pi.cloneState = 2 }()
	ws := pi.inner.ws
	t := c.templateRef(ws, p, ref)
	if t == nil {
		return
	}
	if t == p {
		c.errorf(nil, lang.CodeCloneCycle, s, e, "program %q cannot be cloned from itself", p.Name)
		return
	}
	ti := c.prg(t)
	if ti.decl.Clone != nil {
		c.expandClone(t, append(chain, p))
		if t.CloneOf == nil {
			return // the template's own clone failed, and said why
		}
	}
	p.CloneOf = t
	pi.body = ti.body
	pi.locals = map[string]*ir.Campaign{}
	inner := pi.inner
	for _, d := range pi.decl.Overrides {
		if d.Token == nil {
			ds, de := rng(d.Pos, d.EndPos)
			c.errorf(nil, lang.CodeSyntax, ds, de, "a cloned program holds only the tokens it overrides; its other declarations come from %q", t.Name)
			continue
		}
		td := d.Token
		name := td.Name.Value()
		ns, ne := rng(td.Name.Pos, td.Name.EndPos)
		orig := t.Scope.Lookup(name)
		if orig == nil {
			// An override names a token of the template: a new name is
			// most likely a typo, which would otherwise go unnoticed.
			sug := nearest(name, t.Scope.Names())
			dg := c.errorf(nil, lang.CodeUndefined, ns, ne, "program %q has no token %q to override%s", t.Name, name, didYouMean(sug, true))
			dg.Suggestion = sug
			continue
		}
		if orig.Type != td.Type.Name && slices.Contains(stdlib.TokenTypes, td.Type.Name) {
			ts, te := rng(td.Type.Pos, td.Type.EndPos)
			dg := c.errorf(nil, lang.CodeTypeMismatch, ts, te, "token %q is %s in program %q; its override must be %s too", name, orig.Type, t.Name, orig.Type)
			dg.Related = append(dg.Related, lang.Related{Message: "the template's token", Start: orig.Pos, End: orig.Pos})
			continue
		}
		// The override's name names the template's token: renaming that
		// renames the override too.
		c.noRefs = true
		c.declareToken(inner, td)
		c.noRefs = false
		c.refStr(nil, td.Name, orig, false)
		pi.overrides = append(pi.overrides, td)
	}
	// The template's own overrides (when it is a clone) hold unless
	// overridden again, then the template's declarations follow.
	inner.clone = p
	c.noRefs = true // the template's text, not the clone's
	for _, td := range ti.overrides {
		if inner.scope.Tokens[td.Name.Value()] == nil {
			c.declareToken(inner, td)
			pi.overrides = append(pi.overrides, td)
		}
	}
	c.noRefs = false
	prev := c.cloning
	c.cloning = p
	for _, d := range pi.body {
		c.declare(inner, d)
	}
	c.cloning = prev
}

// templateRef resolves the program a program clones: one of the same
// workspace.
func (c *checker) templateRef(ws *ir.Workspace, p *ir.ProgramDef, ref *lang.CampaignRef) *ir.ProgramDef {
	s, e := rng(ref.Name.Pos, ref.Name.EndPos)
	name := ref.Name.Value()
	if ref.Workspace != nil && ref.Workspace.Value() != ws.Name {
		ws0, we := rng(ref.Pos, ref.EndPos)
		c.errorf(nil, lang.CodeCrossWorkspace, ws0, we, "program %q is named in workspace %q; a program clones only programs of its own workspace, %q", name, ref.Workspace.Value(), ws.Name)
		return nil
	}
	if t := c.ws(ws).programs[name]; t != nil {
		c.refStr(nil, ref.Name, t, false)
		return t
	}
	for _, wname := range names(c.workspaces) {
		if other := c.workspaces[wname]; other != ws && c.ws(other).programs[name] != nil {
			t := c.ws(other).programs[name]
			d := c.errorf(nil, lang.CodeCrossWorkspace, s, e, "program %q is in workspace %q; a program clones only programs of its own workspace, %q", name, other.Name, ws.Name)
			d.Related = append(d.Related, lang.Related{Message: "declared here", Start: t.Pos, End: t.Pos})
			return nil
		}
	}
	var cands []string
	for _, q := range ws.Programs {
		if q != p {
			cands = append(cands, q.Name)
		}
	}
	sug := nearest(name, cands)
	d := c.errorf(nil, lang.CodeUndefined, s, e, "undefined program %q%s", name, didYouMean(sug, true))
	d.Suggestion = sug
	return nil
}

func (c *checker) declareStatuses(ctx declCtx, sd *lang.StatusesDecl) {
	s, e := rng(sd.Pos, sd.EndPos)
	if ctx.program == nil {
		c.errorf(nil, lang.CodeSyntax, s, e, "statuses belong inside a program")
		return
	}
	p := ctx.program
	if len(p.Statuses) > 0 {
		c.dup("statuses of program", p.Name, s, e, p.Statuses[0].Pos)
		return
	}
	for _, st := range sd.List {
		ns, ne := rng(st.Name.Pos, st.Name.EndPos)
		if i := p.StatusIndex(st.Name.Value()); i >= 0 {
			c.dup("status", st.Name.Value(), ns, ne, p.Statuses[i].Pos)
			continue
		}
		p.Statuses = append(p.Statuses, ir.Status{Name: st.Name.Value(), Back: st.Back, Pos: ns})
		c.refStr(nil, st.Name, StatusName{Program: p, Name: st.Name.Value()}, true)
	}
}

func (c *checker) declareToken(ctx declCtx, td *lang.TokenDecl) {
	s, e := rng(td.Name.Pos, td.Name.EndPos)
	if ctx.scope == nil {
		c.errorf(nil, lang.CodeSyntax, s, e, "a token belongs to a folder or a program")
		return
	}
	if !slices.Contains(stdlib.TokenTypes, td.Type.Name) {
		ts, te := rng(td.Type.Pos, td.Type.EndPos)
		d := c.errorf(nil, lang.CodeSyntax, ts, te, "unknown token type %q (one of %s)%s", td.Type.Name, strings.Join(stdlib.TokenTypes, ", "), didYouMean(nearest(td.Type.Name, stdlib.TokenTypes), false))
		d.Suggestion = nearest(td.Type.Name, stdlib.TokenTypes)
		return
	}
	name := td.Name.Value()
	if first, ok := ctx.scope.Tokens[name]; ok {
		c.dup("token", name, s, e, first.Pos)
		return
	}
	t := &ir.Token{Name: name, Type: td.Type.Name, Value: td.Value.Value(), Pos: s}
	c.tokenDecl[t] = td
	c.refStr(nil, td.Name, t, true)
	ctx.scope.Tokens[name] = t
	ctx.scope.Order = append(ctx.scope.Order, t)
}

func (c *checker) declareCampaign(ctx declCtx, cd *lang.CampaignDecl) {
	s, e := rng(cd.Name.Pos, cd.Name.EndPos)
	if ctx.program == nil {
		c.errorf(nil, lang.CodeSyntax, s, e, "a campaign must stand inside a program")
		return
	}
	kind := -1
	for i, k := range stdlib.CampaignKinds {
		if cd.Kind.Name == k {
			kind = i
		}
	}
	if kind < 0 {
		ks, ke := rng(cd.Kind.Pos, cd.Kind.EndPos)
		d := c.errorf(nil, lang.CodeSyntax, ks, ke, "unknown campaign kind %q (batch, trigger or executable)%s", cd.Kind.Name, didYouMean(nearest(cd.Kind.Name, stdlib.CampaignKinds), false))
		d.Suggestion = nearest(cd.Kind.Name, stdlib.CampaignKinds)
		return
	}
	name := cd.Name.Value()
	if ctx.clone != nil {
		// Campaign names are unique in a workspace: see named.
		name = ctx.named(name)
		if first, ok := c.ws(ctx.ws).campaigns[name]; ok {
			pd := c.prg(ctx.clone).decl
			ps, pe := rng(pd.Name.Pos, pd.Name.EndPos)
			d := c.errorf(nil, lang.CodeDuplicate, ps, pe, "campaign %q, the clone's copy of %q, is already declared in this workspace", name, cd.Name.Value())
			d.Related = append(d.Related, lang.Related{Message: "first declared here", Start: first.Pos, End: first.Pos})
			return
		}
	} else if first, ok := c.ws(ctx.ws).campaigns[name]; ok {
		c.dup("campaign", name, s, e, first.Pos)
		return
	}
	cp := &ir.Campaign{ID: len(c.prog.Campaigns), Name: name, Key: ir.Key(ctx.ws.Name, name), Kind: ir.Kind(kind), Workspace: ctx.ws, Program: ctx.program,
		Pos: lang.Pos(cd.Pos), End: lang.Pos(cd.EndPos)}
	c.campInfo[cp] = &campaignInfo{decl: cd, body: cd.Body}
	c.refStr(nil, cd.Name, cp, true)
	if ctx.clone != nil {
		c.prg(ctx.clone).locals[cd.Name.Value()] = cp
	}
	c.ws(ctx.ws).campaigns[name] = cp
	ctx.ws.Campaigns = append(ctx.ws.Campaigns, cp)
	c.prog.Campaigns = append(c.prog.Campaigns, cp)
}

// finishDeclarations orders workspaces by name and gives each workspace
// without partitions the default one.
func (c *checker) finishDeclarations() {
	for _, ws := range c.workspaces {
		if len(ws.Partitions) == 0 {
			ws.Partitions = []string{"Default"}
		}
		c.prog.Workspaces = append(c.prog.Workspaces, ws)
	}
	slices.SortFunc(c.prog.Workspaces, func(a, b *ir.Workspace) int { return strings.Compare(a.Name, b.Name) })
}

func quote(s string) string { return "\"" + s + "\"" }

// names lists the keys of a name map in sorted order, for suggestions.
func names[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// declPos is where a declared list, smart list, email, webhook, form or
// web page is declared.
func declPos(v any) lang.Position {
	switch a := v.(type) {
	case *ir.List:
		return a.Pos
	case *ir.SmartListDef:
		return a.Pos
	case *ir.Email:
		return a.Pos
	case *ir.Webhook:
		return a.Pos
	case *ir.Form:
		return a.Pos
	case *ir.WebPage:
		return a.Pos
	}
	return lang.Position{}
}

// declareAsset adds an asset to its scope unless the scope has one of that
// name already (reported as a duplicate pointing at the first).
func declareAsset[V any](c *checker, what string, scope map[string]V, n *lang.Str, build func(name string, at lang.Position) V) (V, bool) {
	s, e := rng(n.Pos, n.EndPos)
	name := n.Value()
	if first, ok := scope[name]; ok {
		c.dup(what, name, s, e, declPos(first))
		var zero V
		return zero, false
	}
	v := build(name, s)
	scope[name] = v
	c.refStr(nil, n, v, true)
	return v, true
}
