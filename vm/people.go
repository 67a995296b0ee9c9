package vm

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/stdlib"
)

// PeopleError is a problem in a people file, with its place.
type PeopleError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *PeopleError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Schema is what a people file may contain: the fields of every workspace,
// and the lists and programs (with their statuses) that names may refer to.
type Schema struct {
	fields   map[string]stdlib.FieldType
	lists    map[string][]string // list name -> the keys of the lists so named
	programs map[string][]*compiler.ProgramDef
}

// NewSchema derives the schema of a program.
func NewSchema(prog *compiler.Program) (*Schema, error) {
	types, err := prog.FieldTypes()
	if err != nil {
		return nil, err
	}
	s := &Schema{fields: types, lists: map[string][]string{}, programs: map[string][]*compiler.ProgramDef{}}
	for _, ws := range prog.Workspaces {
		for _, l := range ws.Lists {
			s.lists[l.Name] = append(s.lists[l.Name], l.Key)
		}
		for _, p := range ws.Programs {
			s.programs[p.Name] = append(s.programs[p.Name], p)
		}
	}
	return s, nil
}

func (s *Schema) fieldNames() []string { return sortedKeys(s.fields) }

// setField parses a cell into the person; the error message has no place.
func (s *Schema) setField(p *Person, name, text string) error {
	t, ok := s.fields[name]
	if !ok {
		return fmt.Errorf("unknown field %q", name)
	}
	v, err := parseValue(t, text)
	if err != nil {
		return fmt.Errorf("field %s (%s): %v", name, t, err)
	}
	if name == "Partition" {
		p.Partition = text
	}
	if !v.Null {
		p.Fields[name] = v
	}
	return nil
}

func (s *Schema) addList(p *Person, name string) error {
	keys := s.lists[name]
	if len(keys) == 0 {
		return fmt.Errorf("no list %q in any workspace", name)
	}
	for _, k := range keys {
		p.Lists[k] = true
	}
	return nil
}

func (s *Schema) setProgram(p *Person, name, status string) error {
	progs := s.programs[name]
	if len(progs) == 0 {
		return fmt.Errorf("no program %q in any workspace", name)
	}
	for _, pr := range progs {
		if pr.StatusIndex(status) < 0 {
			return fmt.Errorf("program %q has no status %q", name, status)
		}
		p.Programs[pr.Key] = status
	}
	return nil
}

func newPerson(id string) *Person {
	return &Person{ID: id, Fields: map[string]compiler.Value{"Id": {Type: stdlib.Text, Text: id, Fold: strings.ToLower(id)}},
		Lists: map[string]bool{}, Programs: map[string]string{}}
}

// ParseCSV reads people from CSV: a header of field names with an Id
// column, then one person per row. Any bad cell rejects the whole file.
func ParseCSV(file string, data []byte, s *Schema) ([]*Person, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, csvErr(file, err, "the file is empty; it needs a header with an Id column")
	}
	idCol := -1
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		line, col := r.FieldPos(i)
		switch {
		case h == "Id":
			idCol = i
		case h == "":
			return nil, &PeopleError{file, line, col, "empty column name in the header"}
		case s.fields[h] == "":
			return nil, &PeopleError{file, line, col, fmt.Sprintf("unknown field %q in the header%s", h, suggestField(h, s))}
		}
		if slices.Index(header[:i], h) >= 0 {
			return nil, &PeopleError{file, line, col, fmt.Sprintf("column %q appears twice", h)}
		}
	}
	if idCol < 0 {
		return nil, &PeopleError{file, 1, 1, "the header has no Id column"}
	}
	var out []*Person
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(file, err, "")
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			return nil, &PeopleError{file, line, 1, fmt.Sprintf("row has %d cells; the header has %d", len(rec), len(header))}
		}
		id := strings.TrimSpace(rec[idCol])
		if id == "" {
			l, c := r.FieldPos(idCol)
			return nil, &PeopleError{file, l, c, "missing Id"}
		}
		if first, dup := seen[id]; dup {
			l, c := r.FieldPos(idCol)
			return nil, &PeopleError{file, l, c, fmt.Sprintf("Id %q already appears on line %d", id, first)}
		}
		seen[id] = line
		p := newPerson(id)
		for i, cell := range rec {
			if i == idCol {
				continue
			}
			if err := s.setField(p, header[i], cell); err != nil {
				l, c := r.FieldPos(i)
				return nil, &PeopleError{file, l, c, err.Error()}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func csvErr(file string, err error, empty string) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &PeopleError{file, pe.Line, pe.Column, pe.Err.Error()}
	}
	if err == io.EOF && empty != "" {
		return &PeopleError{file, 1, 1, empty}
	}
	return &PeopleError{file, 1, 1, err.Error()}
}

func suggestField(name string, s *Schema) string {
	if best := compiler.Nearest(name, s.fieldNames()); best != "" {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return ""
}

// ParseJSONL reads people from JSON Lines: one object per line with an
// "Id", field names as keys, and optionally "lists": ["name", …] and
// "programs": {"Program": "Status"}. Blank lines are skipped.
func ParseJSONL(file string, data []byte, s *Schema) ([]*Person, error) {
	var out []*Person
	seen := map[string]int{}
	for n, line := range strings.Split(string(data), "\n") {
		lineNo := n + 1
		if strings.TrimSpace(line) == "" {
			continue
		}
		p, err := s.jsonPerson(line)
		if err != nil {
			var je *jsonErr
			if errors.As(err, &je) {
				return nil, &PeopleError{file, lineNo, je.col, je.msg}
			}
			return nil, &PeopleError{file, lineNo, 1, err.Error()}
		}
		if first, dup := seen[p.ID]; dup {
			return nil, &PeopleError{file, lineNo, 1, fmt.Sprintf("Id %q already appears on line %d", p.ID, first)}
		}
		seen[p.ID] = lineNo
		out = append(out, p)
	}
	return out, nil
}

type jsonErr struct {
	col int
	msg string
}

func (e *jsonErr) Error() string { return e.msg }

// jsonPerson decodes one line token by token so that an error can name the
// column of the offending value.
func (s *Schema) jsonPerson(line string) (*Person, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	col := func() int { return int(dec.InputOffset()) + 1 }
	fail := func(c int, format string, args ...any) error { return &jsonErr{c, fmt.Sprintf(format, args...)} }
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fail(1, "each line must be one JSON object")
	}
	p := newPerson("")
	hasID := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fail(col(), "bad JSON: %v", err)
		}
		key, _ := kt.(string)
		// The value starts after the colon and any spaces that follow the key.
		at := int(dec.InputOffset())
		for at < len(line) && (line[at] == ' ' || line[at] == '\t' || line[at] == ':') {
			at++
		}
		at++
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fail(at, "bad JSON: %v", err)
		}
		switch key {
		case "Id":
			id, ok := scalarText(raw)
			if !ok || id == "" {
				return nil, fail(at, "Id must be a non-empty string or number")
			}
			p.ID, hasID = id, true
			p.Fields["Id"] = compiler.Value{Type: stdlib.Text, Text: id, Fold: strings.ToLower(id)}
		case "lists":
			var names []string
			if err := json.Unmarshal(raw, &names); err != nil {
				return nil, fail(at, "\"lists\" must be an array of list names")
			}
			for _, n := range names {
				if err := s.addList(p, n); err != nil {
					return nil, fail(at, "%v", err)
				}
			}
		case "programs":
			var progs map[string]string
			if err := json.Unmarshal(raw, &progs); err != nil {
				return nil, fail(at, "\"programs\" must map program names to statuses")
			}
			for _, name := range sortedKeys(progs) {
				if err := s.setProgram(p, name, progs[name]); err != nil {
					return nil, fail(at, "%v", err)
				}
			}
		default:
			if _, ok := s.fields[key]; !ok {
				return nil, fail(at, "unknown field %q%s", key, suggestField(key, s))
			}
			text, ok := scalarText(raw)
			if !ok {
				return nil, fail(at, "field %s needs a string, number, boolean or null", key)
			}
			if err := s.setField(p, key, text); err != nil {
				return nil, fail(at, "%v", err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(col(), "bad JSON: %v", err)
	}
	if dec.More() {
		return nil, fail(col(), "one JSON object per line")
	}
	if !hasID {
		return nil, fail(1, "missing \"Id\"")
	}
	return p, nil
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
