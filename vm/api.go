package vm

import (
	"context"
	"fmt"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// PersonChange is what an API call does to one person's fields (campc
// serve): create the person, or set some of its fields, as one pass.
type PersonChange struct {
	Person    string
	Workspace string // the workspace the change happens in: its fields, and where the events go
	// Create makes a new person (it must not exist): "New Person" is
	// logged and "person is created" raised; the fields are its first
	// values, not changes.
	Create    bool
	Partition string // a new person's partition ("" is "Default")
	// Fields are set in order, by field name, from text as a people file
	// writes it ("" clears the field). For a known person each change is
	// logged as its step would log it (Change Score for a score field,
	// Change Data Value otherwise) and raises its event; a value the
	// field already has changes nothing.
	Fields []FieldText
}

// FieldText is a field's value as text.
type FieldText struct {
	Field string
	Value string
}

// ChangePerson applies a PersonChange in one transaction with what its
// events set off: the active trigger campaigns of the workspace that
// listen to them run, as they would for a flow step's change.
func (e *Engine) ChangePerson(ctx context.Context, ch PersonChange) (*Report, error) {
	ws := e.workspace(ch.Workspace)
	if ws == nil {
		return nil, fmt.Errorf("no workspace %q", ch.Workspace)
	}
	if err := storage.CheckID(ch.Person); err != nil {
		return nil, fmt.Errorf("Id: %v", err)
	}
	vals := make([]ir.Value, len(ch.Fields))
	for i, f := range ch.Fields {
		fd := ws.Field(f.Field)
		if fd == nil {
			return nil, fmt.Errorf("workspace %q has no field %q", ws.Name, f.Field)
		}
		if fd.Builtin && stdlib.ReadOnlyField(fd.Name) {
			return nil, fmt.Errorf("field %s is kept by campc and cannot be set", fd.Name)
		}
		if err := storage.CheckText(f.Value); err != nil {
			return nil, fmt.Errorf("field %s: %v", fd.Name, err)
		}
		v, err := storage.ParseFieldValue(fd.Type, f.Value)
		if err != nil {
			return nil, fmt.Errorf("field %s: %v", fd.Name, err)
		}
		vals[i] = v
	}
	if ch.Create && !ws.Sees(partitionOrDefault(ch.Partition)) {
		return nil, fmt.Errorf("workspace %q does not see partition %q", ws.Name, partitionOrDefault(ch.Partition))
	}
	defer e.lock()()
	r := e.newRun(ctx)
	r.deferRuns = e.deferRuns
	err := r.inTx(func() error {
		p, err := r.tx.LoadPerson(ch.Person)
		if err != nil {
			return err
		}
		switch {
		case ch.Create && p != nil:
			return fmt.Errorf("a person with Id %q exists", ch.Person)
		case !ch.Create && p == nil:
			return fmt.Errorf("no person with Id %q", ch.Person)
		case !ch.Create && !ws.Sees(p.Partition):
			return fmt.Errorf("person %q is not visible to workspace %q", ch.Person, ws.Name)
		}
		if ch.Create {
			p = &storage.Person{ID: ch.Person, Partition: ch.Partition, Fields: map[string]ir.Value{}}
			if ch.Partition == "Default" {
				p.Partition = ""
			}
		}
		ps := r.newPass(p, nil)
		if ch.Create {
			at := ir.Value{Type: stdlib.DateTime, Time: r.now}
			ps.p.SetField(storage.FieldCreatedAt, at)
			ps.p.SetField(storage.FieldUpdatedAt, at)
			for i, f := range ch.Fields {
				if !vals[i].Null {
					ps.p.SetField(ws.Field(f.Field).Name, vals[i])
				}
			}
			ps.add(&storage.Activity{Type: stdlib.ActNewPerson, Workspace: ws.Name, Primary: p.ID, Attributes: storage.Attrs{{Key: "Source", Value: storage.AttrStr("api")}}}, nil, nil)
			ps.events = append(ps.events, storage.Event{Kind: ir.TrigCreated, Person: p.ID, Workspace: ws.Name})
			if err := ps.finish(nil); err != nil {
				return err
			}
			return r.drain()
		}
		for i, f := range ch.Fields {
			fd, v := ws.Field(f.Field), vals[i]
			old, _ := ps.p.FieldOf(fd)
			if storage.SameValue(old, v) {
				continue
			}
			if v.Null {
				ps.p.DeleteFieldOf(fd)
			} else {
				ps.p.SetFieldOf(fd, v)
			}
			ps.touch()
			if fd.Type == stdlib.Score {
				ps.add(&storage.Activity{Type: stdlib.ActChangeScore, Workspace: ws.Name, Primary: fd.Name,
					Attributes: storage.Attrs{{Key: "Change Value", Value: storage.AttrNum(v.Num - old.Num)}, {Key: "Old Value", Value: storage.AttrNum(old.Num)}, {Key: "New Value", Value: storage.AttrNum(v.Num)}, {Key: "Source", Value: storage.AttrStr("api")}}}, nil, nil)
				ps.events = append(ps.events, storage.Event{Kind: ir.TrigScoreChanged, Person: p.ID, Field: fd.Name,
					Old: storage.FormatNum(old.Num), New: storage.FormatNum(v.Num), Workspace: ws.Name})
				continue
			}
			ps.add(&storage.Activity{Type: stdlib.ActChangeDataValue, Workspace: ws.Name, Primary: fd.Name,
				Attributes: storage.Attrs{{Key: "Old Value", Value: storage.AttrOf(old)}, {Key: "New Value", Value: storage.AttrOf(v)}, {Key: "Source", Value: storage.AttrStr("api")}}}, nil, nil)
			ps.events = append(ps.events, storage.Event{Kind: ir.TrigDataChanges, Person: p.ID, Field: fd.Name,
				Old: storage.FormatValue(old), New: storage.FormatValue(v), Workspace: ws.Name})
		}
		if err := ps.finish(nil); err != nil {
			return err
		}
		return r.drain()
	})
	if err != nil {
		return r.report, err
	}
	return r.report, nil
}

func partitionOrDefault(p string) string {
	if p == "" {
		return "Default"
	}
	return p
}

func (e *Engine) workspace(name string) *ir.Workspace {
	for _, ws := range e.prog.Workspaces {
		if ws.Name == name {
			return ws
		}
	}
	return nil
}

// RunBatchAt runs a batch campaign as RunBatch does, with its start at
// the given time (an API's scheduled run, with its token overrides): a
// run is named by its campaign and start time, so a run that completed
// does not run again.
func (e *Engine) RunBatchAt(ctx context.Context, c *ir.Campaign, at time.Time, opts RunOptions) (*Report, error) {
	if c.Kind != ir.Batch {
		return nil, fmt.Errorf("campaign %q is a %s campaign, not a batch campaign", c.Name, c.Kind)
	}
	if err := checkOverrides(c, opts.Tokens); err != nil {
		return nil, err
	}
	return e.runBatch(ctx, c, at.UTC().Truncate(time.Microsecond), opts)
}

// CheckTokens checks API My Token overrides against a campaign before
// anything runs: each must name one of its tokens and fit its type.
func CheckTokens(c *ir.Campaign, tokens map[string]string) error { return checkOverrides(c, tokens) }
