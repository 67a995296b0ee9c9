package people

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/campc/campc/internal/textutil"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// Error is a problem in a people file, with its place. It is reported
// as a lang diagnostic (Diagnostic) of code people, and reads as one.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
	Code   lang.Code // lang.CodePeople when empty; lang.CodeEvents for an events file
}

// Diagnostic is the error as a lang diagnostic, spanning the character
// at its place.
func (e *Error) Diagnostic() *lang.Diagnostic {
	at := lang.Position{Filename: e.File, Line: e.Line, Column: e.Column}
	return lang.Errorf(cmp.Or(e.Code, lang.CodePeople), at, at.Advance(1), "%s", e.Msg)
}

func (e *Error) Error() string { return e.Diagnostic().Error() }

// Schema is what a people file may contain: the fields of every workspace
// (by name or display name), and the lists, programs (with their statuses)
// and partitions that values may name.
type Schema struct {
	fields     map[string]stdlib.FieldType
	headings   map[string][]string // a field's name or display name, lower case -> the fields it names
	names      []string            // every name and display name, for suggestions
	lists      map[string][]string // list name -> the keys of the lists so named
	listKeys   []string            // every list's key
	programs   map[string][]*ir.ProgramDef
	partitions []string // every partition some workspace sees
}

// NewSchema derives the schema of a program.
func NewSchema(prog *ir.Program) (*Schema, error) {
	types, err := prog.FieldTypes()
	if err != nil {
		return nil, err
	}
	s := &Schema{fields: types, headings: map[string][]string{}, lists: map[string][]string{}, programs: map[string][]*ir.ProgramDef{}}
	names := map[string]bool{}
	heading := func(h, field string) {
		k := strings.ToLower(h)
		if !slices.Contains(s.headings[k], field) {
			s.headings[k] = append(s.headings[k], field)
		}
		names[h] = true
	}
	for _, ws := range prog.Workspaces {
		for _, f := range ws.Fields {
			heading(f.Name, f.Name)
			if f.Display != "" {
				heading(f.Display, f.Name)
			}
		}
		for _, l := range ws.Lists {
			s.lists[l.Name] = append(s.lists[l.Name], l.Key)
			s.listKeys = append(s.listKeys, l.Key)
		}
		for _, p := range ws.Programs {
			s.programs[p.Name] = append(s.programs[p.Name], p)
		}
		for _, pt := range ws.Partitions {
			if !slices.Contains(s.partitions, pt) {
				s.partitions = append(s.partitions, pt)
			}
		}
	}
	for _, fs := range s.headings {
		slices.Sort(fs)
	}
	s.names = slices.Sorted(maps.Keys(names))
	slices.Sort(s.partitions)
	return s, nil
}

// What a CSV column or a JSONL key holds.
const (
	colField    = iota // a field's value
	colLists           // the lists the person is on ("lists")
	colProgram         // the person's status in one program ("program:Name")
	colPrograms        // JSONL only: statuses by program ("programs")
)

// column is what a heading (a CSV column's or a JSONL key) names.
type column struct {
	kind int
	name string // the field or the program
}

func (c column) String() string {
	switch c.kind {
	case colField:
		return "field " + c.name
	case colProgram:
		return fmt.Sprintf("program %q", c.name)
	}
	return fmt.Sprintf("%q", []string{colLists: "lists", colPrograms: "programs"}[c.kind])
}

// programPrefix starts the heading of a program status column.
const programPrefix = "program:"

// column finds what a heading names. A field is named by its name or
// display name, ignoring case and surrounding spaces; its exact name
// always names it. "lists", "programs" (which jsonl may be true for) and
// "program:Name" name memberships.
func (s *Schema) column(heading string, jsonl bool) (column, error) {
	h := strings.TrimSpace(heading)
	low := strings.ToLower(h)
	switch {
	case low == "lists":
		return column{kind: colLists}, nil
	case low == "programs" && jsonl:
		return column{kind: colPrograms}, nil
	case strings.HasPrefix(low, programPrefix):
		name := strings.TrimSpace(h[len(programPrefix):])
		if len(s.programs[name]) == 0 {
			return column{}, fmt.Errorf("no program %q in any workspace%s", name, textutil.DidYouMean(name, slices.Sorted(maps.Keys(s.programs))))
		}
		return column{kind: colProgram, name: name}, nil
	}
	if _, ok := s.fields[h]; ok {
		return column{kind: colField, name: h}, nil
	}
	switch fs := s.headings[low]; len(fs) {
	case 0:
		if jsonl {
			return column{}, fmt.Errorf("unknown field %q: no field has this name or display name%s", h, textutil.DidYouMean(h, s.names))
		}
		if low == "programs" {
			return column{}, fmt.Errorf("unknown column %q: in CSV, a program's status goes in a column headed program:Name", h)
		}
		return column{}, fmt.Errorf("unknown column %q in the header: no field has this name or display name%s", h, textutil.DidYouMean(h, s.names))
	case 1:
		return column{kind: colField, name: fs[0]}, nil
	default:
		return column{}, fmt.Errorf("%q may name field %s: write the field's name", h, strings.Join(fs, " or "))
	}
}

// setField parses a cell into the person; the error message has no place.
// An empty cell is a null value: importing it clears the field.
func (s *Schema) setField(p *storage.Person, name, text string) error {
	t, ok := s.fields[name]
	if !ok {
		return fmt.Errorf("unknown field %q", name)
	}
	if err := storage.CheckText(text); err != nil {
		return fmt.Errorf("field %s: %v", name, err)
	}
	v, err := storage.ParseFieldValue(t, text)
	if err != nil {
		return fmt.Errorf("field %s (%s): %v", name, t, err)
	}
	if name == "Partition" {
		// A partition no workspace sees would hide the person from every
		// campaign without a word.
		if !v.Null && !slices.Contains(s.partitions, text) {
			return fmt.Errorf("unknown partition %q: no workspace sees it (the project's partitions: %s)%s", text, strings.Join(s.partitions, ", "), textutil.DidYouMean(text, s.partitions))
		}
		p.Partition = text
	}
	p.Fields[name] = v
	return nil
}

// setLists makes names the person's whole membership of the project's
// lists: the person leaves every list not named.
func (s *Schema) setLists(p *storage.Person, names []string) error {
	for _, k := range s.listKeys {
		p.Lists[k] = false
	}
	for _, name := range names {
		if err := s.addList(p, name); err != nil {
			return err
		}
	}
	return nil
}

func (s *Schema) addList(p *storage.Person, name string) error {
	keys := s.lists[name]
	if len(keys) == 0 {
		return fmt.Errorf("no list %q in any workspace%s", name, textutil.DidYouMean(name, slices.Sorted(maps.Keys(s.lists))))
	}
	for _, k := range keys {
		p.Lists[k] = true
	}
	return nil
}

// setProgram sets the person's status in every program so named; an empty
// status means not a member.
func (s *Schema) setProgram(p *storage.Person, name, status string) error {
	progs := s.programs[name]
	if len(progs) == 0 {
		return fmt.Errorf("no program %q in any workspace", name)
	}
	if err := storage.CheckText(status); err != nil {
		return fmt.Errorf("program %q: %v", name, err)
	}
	for _, pr := range progs {
		if status != "" && pr.StatusIndex(status) < 0 {
			return fmt.Errorf("program %q has no status %q", name, status)
		}
		p.Programs[pr.Key] = status
	}
	return nil
}

// splitLists reads a CSV lists cell: list names separated by ";", each
// without surrounding spaces; an empty cell names none.
func splitLists(cell string) []string {
	var out []string
	for _, n := range strings.Split(cell, ";") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func newPerson(id string) *storage.Person {
	return &storage.Person{ID: id, Fields: map[string]ir.Value{"Id": {Type: stdlib.Text, Text: id, Fold: strings.ToLower(id)}},
		Lists: map[string]bool{}, Programs: map[string]string{}}
}

// bom is the UTF-8 byte order mark some tools write first; a people file
// may start with one.
const bom = "\ufeff"

// PeopleRecord is where a person was read: the line of the record's start, and
// the bytes of the record in the file (from its first byte up to and
// including its line break). ReadRecord reads it again from those bytes.
type PeopleRecord struct {
	Line   int
	Column int // of the Id
	Offset int64
	Size   int64
}

// PeopleReader reads a people file one person at a time, so that a file of
// any size can be checked, and then imported, in bounded memory. It reports
// the first problem with its place; it does not look for duplicate Ids
// (ParseCSV and ParseJSONL do, and so must a caller that streams).
type PeopleReader struct {
	file string
	s    *Schema
	base int64 // bytes skipped before the first record's reader (a BOM)
	rec  PeopleRecord

	// CSV
	csv   *csv.Reader
	cols  []column
	idCol int

	// JSONL
	lines *bufio.Reader
	line  int
	off   int64
}

// NewCSVReader reads the header of a CSV people file: an Id column, and
// columns headed by field names or display names, "lists" and
// "program:Name". Each following row is one person.
func NewCSVReader(file string, r io.Reader, s *Schema) (*PeopleReader, error) {
	br, base := textutil.SkipBOM(r)
	pr := &PeopleReader{file: file, s: s, base: base, idCol: -1}
	pr.csv = csv.NewReader(br)
	pr.csv.FieldsPerRecord = -1
	header, err := pr.csv.Read()
	if err != nil {
		return nil, csvErr(file, err, "the file is empty; it needs a header with an Id column")
	}
	for i, h := range header {
		line, col := pr.csv.FieldPos(i)
		if err := storage.CheckText(h); err != nil {
			return nil, &Error{File: file, Line: line, Column: col, Msg: "column name: " + err.Error()}
		}
		h = strings.TrimSpace(strings.TrimPrefix(h, bom))
		if h == "" {
			return nil, &Error{File: file, Line: line, Column: col, Msg: "empty column name in the header"}
		}
		c, err := s.column(h, false)
		if err != nil {
			return nil, &Error{File: file, Line: line, Column: col, Msg: err.Error()}
		}
		if j := slices.Index(pr.cols, c); j >= 0 {
			_, first := pr.csv.FieldPos(j)
			return nil, &Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf("column %q names %s, as the column at column %d does", h, c, first)}
		}
		if c == (column{kind: colField, name: "Id"}) {
			pr.idCol = i
		}
		pr.cols = append(pr.cols, c)
	}
	if pr.idCol < 0 {
		return nil, &Error{File: file, Line: 1, Column: 1, Msg: "the header has no Id column"}
	}
	return pr, nil
}

// Next reads the next person; at the end of the file it returns io.EOF.
func (pr *PeopleReader) Next() (*storage.Person, error) {
	if pr.csv != nil {
		return pr.nextCSV()
	}
	return pr.nextJSONL()
}

// Record is where the person Next returned was read.
func (pr *PeopleReader) Record() PeopleRecord { return pr.rec }

func (pr *PeopleReader) nextCSV() (*storage.Person, error) {
	start := pr.base + pr.csv.InputOffset()
	rec, err := pr.csv.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, csvErr(pr.file, err, "")
	}
	line, _ := pr.csv.FieldPos(0)
	p, err := pr.csvPerson(rec, pr.csv.FieldPos)
	if err != nil {
		return nil, err
	}
	_, idCol := pr.csv.FieldPos(pr.idCol)
	pr.rec = PeopleRecord{Line: line, Column: idCol, Offset: start, Size: pr.base + pr.csv.InputOffset() - start}
	return p, nil
}

// csvPerson makes a person of one row; pos places its cells.
func (pr *PeopleReader) csvPerson(rec []string, pos func(int) (int, int)) (*storage.Person, error) {
	if len(rec) != len(pr.cols) {
		line, _ := pos(0)
		return nil, &Error{File: pr.file, Line: line, Column: 1, Msg: fmt.Sprintf("row has %d cells; the header has %d", len(rec), len(pr.cols))}
	}
	// The Id is cloned: a cell shares the memory of its whole row.
	id := strings.Clone(strings.TrimSpace(rec[pr.idCol]))
	if err := storage.CheckID(id); err != nil {
		l, c := pos(pr.idCol)
		return nil, &Error{File: pr.file, Line: l, Column: c, Msg: err.Error()}
	}
	p := newPerson(id)
	for i, cell := range rec {
		if i == pr.idCol {
			continue
		}
		var err error
		switch c := pr.cols[i]; c.kind {
		case colField:
			err = pr.s.setField(p, c.name, cell)
		case colLists:
			if err = storage.CheckText(cell); err == nil {
				err = pr.s.setLists(p, splitLists(cell))
			}
		case colProgram:
			err = pr.s.setProgram(p, c.name, strings.TrimSpace(cell))
		}
		if err != nil {
			l, c := pos(i)
			return nil, &Error{File: pr.file, Line: l, Column: c, Msg: err.Error()}
		}
	}
	return p, nil
}

// ReadRecord reads again the person Next read at rec, from the bytes at
// rec.Offset (rec.Size of them): after a first pass has checked a whole
// file, a second can import it in any order without holding it in memory.
func (pr *PeopleReader) ReadRecord(data []byte, rec PeopleRecord) (*storage.Person, error) {
	if pr.csv == nil {
		pr.line = rec.Line - 1
		return pr.jsonLine(string(data))
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	row, err := r.Read()
	if err != nil {
		pe := csvErr(pr.file, err, "the record is gone").(*Error)
		pe.Line += rec.Line - 1
		return nil, pe
	}
	pos := func(i int) (int, int) {
		l, c := r.FieldPos(i)
		return l + rec.Line - 1, c
	}
	return pr.csvPerson(row, pos)
}

// ParseCSV reads people from CSV: a header of field names with an Id
// column, then one person per row. Any bad cell rejects the whole file.
func ParseCSV(file string, data []byte, s *Schema) ([]*storage.Person, error) {
	pr, err := NewCSVReader(file, bytes.NewReader(data), s)
	if err != nil {
		return nil, err
	}
	return readAll(pr)
}

// readAll reads every person, refusing an Id given twice.
func readAll(pr *PeopleReader) ([]*storage.Person, error) {
	var out []*storage.Person
	seen := map[string]int{}
	for {
		p, err := pr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		rec := pr.Record()
		if first, dup := seen[p.ID]; dup {
			return nil, &Error{File: pr.file, Line: rec.Line, Column: rec.Column, Msg: fmt.Sprintf("Id %q already appears on line %d", p.ID, first)}
		}
		seen[p.ID] = rec.Line
		out = append(out, p)
	}
}

func csvErr(file string, err error, empty string) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error()}
	}
	if err == io.EOF && empty != "" {
		return &Error{File: file, Line: 1, Column: 1, Msg: empty}
	}
	return &Error{File: file, Line: 1, Column: 1, Msg: err.Error()}
}

// NewJSONLReader reads people from JSON Lines: one object per line with an
// "Id" string, field names or display names as keys, and optionally
// "lists": ["name", …], "programs": {"Program": "Status"} and
// "program:Name": "Status". Blank lines are skipped.
func NewJSONLReader(file string, r io.Reader, s *Schema) *PeopleReader {
	br, base := textutil.SkipBOM(r)
	return &PeopleReader{file: file, s: s, base: base, lines: br, off: base}
}

func (pr *PeopleReader) nextJSONL() (*storage.Person, error) {
	for {
		b, err := pr.lines.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, &Error{File: pr.file, Line: pr.line + 1, Column: 1, Msg: err.Error()}
		}
		start := pr.off
		pr.off += int64(len(b))
		line := string(b)
		if strings.TrimSpace(line) == "" {
			pr.line++
			continue
		}
		p, err := pr.jsonLine(line)
		if err != nil {
			return nil, err
		}
		pr.rec = PeopleRecord{Line: pr.line, Column: pr.rec.Column, Offset: start, Size: int64(len(b))}
		return p, nil
	}
}

// jsonLine reads the person of the line after pr.line.
func (pr *PeopleReader) jsonLine(line string) (*storage.Person, error) {
	pr.line++
	line = strings.TrimSuffix(line, "\n")
	// encoding/json turns invalid UTF-8 into U+FFFD without a word.
	if err := storage.CheckText(line); err != nil {
		return nil, &Error{File: pr.file, Line: pr.line, Column: err.(*storage.TextError).Offset + 1, Msg: err.Error()}
	}
	p, idCol, err := pr.s.jsonPerson(line)
	if err != nil {
		var je *jsonErr
		if errors.As(err, &je) {
			return nil, &Error{File: pr.file, Line: pr.line, Column: je.col, Msg: je.msg}
		}
		return nil, &Error{File: pr.file, Line: pr.line, Column: 1, Msg: err.Error()}
	}
	pr.rec.Column = idCol
	return p, nil
}

// ParseJSONL reads people from JSON Lines (see NewJSONLReader). Any bad
// line rejects the whole file.
func ParseJSONL(file string, data []byte, s *Schema) ([]*storage.Person, error) {
	return readAll(NewJSONLReader(file, bytes.NewReader(data), s))
}

type jsonErr struct {
	col int
	msg string
}

func (e *jsonErr) Error() string { return e.msg }

// jsonPerson decodes one line token by token so that an error can name the
// column of the offending value.
func (s *Schema) jsonPerson(line string) (p *storage.Person, idCol int, err error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	col := func() int { return int(dec.InputOffset()) + 1 }
	fail := func(c int, format string, args ...any) error { return &jsonErr{c, fmt.Sprintf(format, args...)} }
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, 0, fail(1, "each line must be one JSON object")
	}
	p = newPerson("")
	hasID := false
	keys := map[string]int{}
	targets := map[column]int{} // what each key named, where
	for dec.More() {
		// The key starts after the comma and spaces that end the last value.
		kat := int(dec.InputOffset())
		for kat < len(line) && (line[kat] == ' ' || line[kat] == '\t' || line[kat] == ',') {
			kat++
		}
		kat++
		kt, err := dec.Token()
		if err != nil {
			return nil, 0, fail(col(), "bad JSON: %v", err)
		}
		key, _ := kt.(string)
		// Last-wins would hide a mistake; fields match their names exactly,
		// so only an exact repeat is the same key.
		if first, dup := keys[key]; dup {
			return nil, 0, fail(kat, "key %q appears twice in the object (first at column %d)", key, first)
		}
		keys[key] = kat
		// The value starts after the colon and any spaces that follow the key.
		at := int(dec.InputOffset())
		for at < len(line) && (line[at] == ' ' || line[at] == '\t' || line[at] == ':') {
			at++
		}
		at++
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, 0, fail(at, "bad JSON: %v", err)
		}
		c, err := s.column(key, true)
		if err != nil {
			return nil, 0, fail(at, "%v", err)
		}
		if first, dup := targets[c]; dup {
			return nil, 0, fail(kat, "key %q names %s, as the key at column %d does", key, c, first)
		}
		targets[c] = kat
		switch {
		case c == column{kind: colField, name: "Id"}:
			// An Id is text: were 1 and 1.0 numbers, they would be two
			// people or one depending on how they were written.
			var id string
			if err := json.Unmarshal(raw, &id); err != nil {
				return nil, 0, fail(at, "Id must be a string (an Id is text: write \"Id\": \"1\", not \"Id\": 1)")
			}
			if err := storage.CheckID(id); err != nil {
				return nil, 0, fail(at, "%v", err)
			}
			p.ID, hasID, idCol = id, true, at
			p.Fields["Id"] = ir.Value{Type: stdlib.Text, Text: id, Fold: strings.ToLower(id)}
		case c.kind == colLists:
			// null is no lists, as [] is.
			var names []string
			if err := json.Unmarshal(raw, &names); err != nil {
				return nil, 0, fail(at, "%q must be an array of list names", key)
			}
			if err := s.setLists(p, names); err != nil {
				return nil, 0, fail(at, "%v", err)
			}
		case c.kind == colProgram:
			var status *string
			if err := json.Unmarshal(raw, &status); err != nil {
				return nil, 0, fail(at, "the status of program %q must be a string or null", c.name)
			}
			if status == nil {
				status = new(string)
			}
			if err := s.setProgram(p, c.name, *status); err != nil {
				return nil, 0, fail(at, "%v", err)
			}
		case c.kind == colPrograms:
			progs, dup, err := stringMap(raw)
			if err != nil {
				return nil, 0, fail(at, "\"programs\" must map program names to statuses")
			}
			if dup != "" {
				return nil, 0, fail(at, "program %q appears twice in \"programs\"", dup)
			}
			for _, name := range slices.Sorted(maps.Keys(progs)) {
				pc := column{kind: colProgram, name: name}
				if first, dup := targets[pc]; dup {
					return nil, 0, fail(at, "program %q in %q is also the key at column %d", name, key, first)
				}
				targets[pc] = at
				if err := s.setProgram(p, name, progs[name]); err != nil {
					return nil, 0, fail(at, "%v", err)
				}
			}
		default:
			text, ok := scalarText(raw)
			if !ok {
				return nil, 0, fail(at, "field %s needs a string, number, boolean or null", c.name)
			}
			if err := s.setField(p, c.name, text); err != nil {
				return nil, 0, fail(at, "%v", err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, 0, fail(col(), "bad JSON: %v", err)
	}
	if dec.More() {
		return nil, 0, fail(col(), "one JSON object per line")
	}
	if !hasID {
		return nil, 0, fail(1, "missing \"Id\"")
	}
	return p, idCol, nil
}

func scalarText(raw json.RawMessage) (string, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// stringMap decodes a JSON object of strings, naming a key that appears
// twice (json.Unmarshal would keep the last silently).
func stringMap(raw json.RawMessage) (m map[string]string, dup string, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, "", errors.New("not an object")
	}
	m = map[string]string{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, "", err
		}
		k := t.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			return nil, "", err
		}
		if _, ok := m[k]; ok && dup == "" {
			dup = k
		}
		m[k] = v
	}
	return m, dup, nil
}
