package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/people"
	"github.com/campc/campc/vm/storage"
)

// checkedPeople is a people file that a first pass has read through and
// found good, keeping only where each person is. A second pass reads them
// again one at a time, in Id order: memory stays bounded by the number of
// people, not the size of the file, and a bad row is found before anything
// is written.
type checkedPeople struct {
	path string
	f    *os.File
	src  io.ReaderAt // f, or the bytes of a file that is not regular (a pipe)
	r    *people.PeopleReader
	recs []peopleRec // by Id
	// stamp is the import's time: people read get it as CreatedAt and
	// UpdatedAt where the file gives none (vm.StampImport).
	stamp time.Time
}

type peopleRec struct {
	id  string
	rec people.PeopleRecord
}

// openPeople checks a whole people file against the project. Its error
// names file:line:col.
func openPeople(path string, prog *ir.Program) (*checkedPeople, error) {
	var open func(io.Reader, *people.Schema) (*people.PeopleReader, error)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		open = func(r io.Reader, s *people.Schema) (*people.PeopleReader, error) {
			return people.NewCSVReader(path, r, s)
		}
	case ".jsonl", ".ndjson":
		open = func(r io.Reader, s *people.Schema) (*people.PeopleReader, error) {
			return people.NewJSONLReader(path, r, s), nil
		}
	default:
		return nil, fmt.Errorf("%s: want a people file ending in .csv or .jsonl", path)
	}
	schema, err := people.NewSchema(prog)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %v", path, pe.Err)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	pf := &checkedPeople{path: path, f: f, src: f}
	var in io.Reader = f
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		// A pipe cannot be read twice: hold it, as before streaming.
		data, err := io.ReadAll(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		br := bytes.NewReader(data)
		pf.src, in = br, io.NewSectionReader(br, 0, br.Size())
	}
	if err := pf.scan(open, schema, in); err != nil {
		f.Close()
		return nil, err
	}
	return pf, nil
}

func (pf *checkedPeople) scan(open func(io.Reader, *people.Schema) (*people.PeopleReader, error), s *people.Schema, in io.Reader) error {
	r, err := open(in, s)
	if err != nil {
		return err
	}
	pf.r = r
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		pf.recs = append(pf.recs, peopleRec{p.ID, r.Record()})
	}
	// Sorting (stably: equal Ids keep the file's order) both orders the
	// import and brings an Id given twice next to its first appearance.
	slices.SortStableFunc(pf.recs, func(a, b peopleRec) int { return strings.Compare(a.id, b.id) })
	var dup *peopleRec
	var first int
	for i := 1; i < len(pf.recs); i++ {
		if pf.recs[i].id == pf.recs[i-1].id && (dup == nil || pf.recs[i].rec.Line < dup.rec.Line) {
			dup, first = &pf.recs[i], pf.recs[i-1].rec.Line
		}
	}
	if dup != nil {
		return &people.Error{File: pf.path, Line: dup.rec.Line, Column: dup.rec.Column, Msg: fmt.Sprintf("Id %q already appears on line %d", dup.id, first)}
	}
	return nil
}

func (pf *checkedPeople) Close() error { return pf.f.Close() }

func (pf *checkedPeople) len() int { return len(pf.recs) }

// ids lists the Ids in ascending order.
func (pf *checkedPeople) ids() []string {
	out := make([]string, len(pf.recs))
	for i, r := range pf.recs {
		out[i] = r.id
	}
	return out
}

// stampAt sets the import's time, given to the people read from now on.
func (pf *checkedPeople) stampAt(t time.Time) { pf.stamp = t }

// next returns an iterator over the people in Id order, for ImportEach.
func (pf *checkedPeople) next() func() (*storage.Person, error) {
	i := 0
	var buf []byte
	return func() (*storage.Person, error) {
		if i == len(pf.recs) {
			return nil, io.EOF
		}
		r := pf.recs[i]
		i++
		var p *storage.Person
		p, buf = pf.read(r, buf)
		if p == nil {
			return nil, fmt.Errorf("%s changed while it was being imported (at line %d); import it again", pf.path, r.rec.Line)
		}
		return p, nil
	}
}

// read reads one person again; nil if the file no longer holds it there.
func (pf *checkedPeople) read(r peopleRec, buf []byte) (*storage.Person, []byte) {
	buf = slices.Grow(buf[:0], int(r.rec.Size))[:r.rec.Size]
	if _, err := pf.src.ReadAt(buf, r.rec.Offset); err != nil {
		return nil, buf
	}
	p, err := pf.r.ReadRecord(buf, r.rec)
	if err != nil || p.ID != r.id {
		return nil, buf
	}
	if !pf.stamp.IsZero() {
		storage.StampImport([]*storage.Person{p}, pf.stamp)
	}
	return p, buf
}

// person finds one person by Id, or nil.
func (pf *checkedPeople) person(id string) (*storage.Person, error) {
	i, ok := slices.BinarySearchFunc(pf.recs, id, func(r peopleRec, id string) int { return cmp.Compare(r.id, id) })
	if !ok {
		return nil, nil
	}
	p, _ := pf.read(pf.recs[i], nil)
	if p == nil {
		return nil, fmt.Errorf("%s changed while it was being read (at line %d)", pf.path, pf.recs[i].rec.Line)
	}
	return p, nil
}

// checkTokenValues refuses a --token value that does not have its My
// Token's form (a NaN number, a score written +1_000), before anything
// runs. A name the campaign lacks is the engine's error.
func checkTokenValues(c *ir.Campaign, tokens map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(tokens)) {
		t := c.Scope().Lookup(name)
		if t == nil {
			continue
		}
		if err := storage.CheckTokenValue(t.Type, tokens[name]); err != nil {
			return fmt.Errorf("--token my.%s: %v (my.%s is a %s token)", name, err, name, t.Type)
		}
	}
	return nil
}
