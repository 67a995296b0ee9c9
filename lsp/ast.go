package lsp

import (
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// place is where an offset of a file stands among the declarations: the
// workspace, the folders, the program and the campaign around it.
type place struct {
	ws       *ir.Workspace
	folders  []string
	program  string
	campaign string
}

func (an *Analysis) workspace(name string) *ir.Workspace {
	for _, ws := range an.program().Workspaces {
		if ws.Name == name {
			return ws
		}
	}
	return nil
}

// placeAt finds the declarations around a byte offset of file, in the
// file's last parse that succeeded.
func (an *Analysis) placeAt(file string, off int) place {
	f := an.ASTs[file]
	if f == nil || f.Workspace == nil {
		return place{}
	}
	pl := place{ws: an.workspace(f.Workspace.Value())}
	l := an.lines(file)
	in := func(p, e lexer.Position) bool {
		return l.irOffset(lang.Pos(p)) <= off && off <= l.irOffset(lang.Pos(e))
	}
	decls := f.Decls
	for len(decls) > 0 {
		var next []*lang.Decl
	find:
		for _, d := range decls {
			if !in(d.Pos, d.EndPos) {
				continue
			}
			switch {
			case d.Folder != nil:
				pl.folders = append(pl.folders, d.Folder.Name.Value())
				next = d.Folder.Decls
			case d.Program != nil:
				pl.program = d.Program.Name.Value()
				next = append(append([]*lang.Decl{}, d.Program.Decls...), d.Program.Overrides...)
			case d.Campaign != nil:
				pl.campaign = d.Campaign.Name.Value()
			}
			break find
		}
		decls = next
	}
	return pl
}

// scope is the My Token scope of a place: its program's, else its
// innermost folder's.
func (pl place) scope() *ir.Scope {
	if pl.ws == nil {
		return nil
	}
	if pl.program != "" {
		if p := pl.ws.ProgramNamed(pl.program); p != nil {
			return p.Scope
		}
	}
	if len(pl.folders) > 0 {
		for _, fd := range pl.ws.Folders {
			if folderPath(fd) == pathKey(pl.folders) {
				return fd.Scope
			}
		}
	}
	return nil
}

func (pl place) campaignDef() *ir.Campaign {
	if pl.ws == nil || pl.campaign == "" {
		return nil
	}
	for _, c := range pl.ws.Campaigns {
		if c.Name == pl.campaign {
			return c
		}
	}
	return nil
}

func folderPath(f *ir.Folder) string {
	var names []string
	for ; f != nil; f = f.Parent {
		names = append([]string{f.Name}, names...)
	}
	return pathKey(names)
}

func pathKey(names []string) string {
	k := ""
	for _, n := range names {
		k += n + "\x00"
	}
	return k
}

// scopeAt is the My Token scope around a position of file.
func (an *Analysis) scopeAt(ws *ir.Workspace, file string, p ir.Position) *ir.Scope {
	pl := an.placeAt(file, an.lines(file).irOffset(p))
	if pl.ws == nil {
		pl.ws = ws
	}
	return pl.scope()
}
