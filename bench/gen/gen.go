// Package gen generates the benchmark inputs: projects of 10 to 10,000
// campaigns around the canonical workload, populations of people, event
// streams, and Go source to compare the checker with go/parser.
//
// Everything is a pure function of its arguments: the same seed and size
// give the same output on every machine and every run. Person i depends
// only on (seed, i), so a population can be generated in pieces (for
// shards, or to load a million people without holding two copies).
package gen

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// Population sizes.
const (
	Small  = 10_000
	Medium = 100_000
	Large  = 1_000_000
)

// CampaignCounts are the project sizes, in campaigns.
var CampaignCounts = []int{10, 100, 1_000, 10_000}

// Seed is the seed the benchmarks use.
const Seed = 20261201

// Names of the canonical workload.
const (
	Workspace   = "Bench"
	Batch       = "Canonical Batch" // the batch campaign
	Child       = "Add Score"       // the executable it executes
	Subscribers = "Subscribers"     // the list of filter 3
	HotLeads    = "Hot Leads"       // the list the flow adds hot people to
	// List keys, as people's Lists hold them.
	SubscribersKey = Workspace + "/" + Subscribers
	HotLeadsKey    = Workspace + "/" + HotLeads
)

// The canonical workload's parameters, as written in Canonical.
var (
	FilterCountries = []string{"DE", "AT", "CH", "FR", "NL", "GB", "ES", "IT", "SE", "DK"}
	FilterMinScore  = 10.0 // filter LeadScore >= 10
	ScoreChange     = 15.0 // the caller's My Token "+15" (the child's own is "+0")
	HotThreshold    = 50.0 // if LeadScore >= 50 (after the change)
	SegmentValue    = "Engaged"
)

// Canonical is the canonical workload: a batch campaign whose smart list has
// three filters (a text in, a number comparison, a list membership); its
// flow executes an executable child with "use parent tokens" that changes
// the score by a My Token, then an if on the new score adds hot people to a
// list, then a data value changes. A qualifying person gets three or four
// activities.
const Canonical = `workspace "Bench"

field Segment text

list "Subscribers"
list "Hot Leads"

folder "Operations" {
  token "Score Change" score "+0"

  program "Scoring" {
    executable campaign "Add Score" {
      smart list {
        filter Email is not empty
      }
      flow {
        change score LeadScore by "{{my.Score Change}}"
      }
      qualify every time
    }
  }
}

program "Canonical" {
  token "Score Change" score "+15"

  batch campaign "Canonical Batch" {
    smart list {
      filter Country in ["DE", "AT", "CH", "FR", "NL", "GB", "ES", "IT", "SE", "DK"]
      filter LeadScore >= 10
      filter member of list "Subscribers"
    }
    flow {
      execute campaign "Add Score" use parent tokens
      if LeadScore >= 50 {
        add to list "Hot Leads"
      }
      change data value Segment to "Engaged"
    }
    qualify every time
  }
}
`

// CanonicalSources is the canonical workload as a one-file project.
func CanonicalSources() []lang.Source {
	return []lang.Source{{Name: "bench.camp", Text: Canonical}}
}

// Project is a project of n campaigns (n >= 2): the canonical workload and
// n-2 more campaigns of every kind, 100 to a file and a program, with the
// steps, filters, triggers, tokens and assets real projects use. It checks
// clean: no errors, no warnings.
func Project(n int) []lang.Source {
	srcs := CanonicalSources()
	left := n - 2
	for f := 0; left > 0; f++ {
		k := min(left, 100)
		srcs = append(srcs, lang.Source{Name: fmt.Sprintf("programs/p%04d.camp", f), Text: programFile(f, k)})
		left -= k
	}
	return srcs
}

// Size is the total length of the sources, in bytes.
func Size(srcs []lang.Source) int {
	n := 0
	for _, s := range srcs {
		n += len(s.Text)
	}
	return n
}

// programFile writes one program of k campaigns, cycling through five
// shapes so that every part of the checker has work to do.
func programFile(f, k int) string {
	var b strings.Builder
	p := fmt.Sprintf("P%04d", f)
	fmt.Fprintf(&b, `// Generated program %d.
workspace "Bench"

folder "Region %d" {
  token "Sender %s" text "Acme %s team"

  program "Program %s" {
    statuses "Invited", "Registered", "Attended", "No Show" (back)
    token "Score Change" score "+%d"
    token "Event Name" text "Event %s"
    token "Threshold" number "%d"

    list "Attendees"
    form "Signup"
    email "Invitation" {
      subject "Join us at {{my.Event Name}}, {{lead.FirstName:default=there}}"
    }
    webhook "Sync" {
      url "https://crm.example/hook?p=%s&email={{lead.Email}}"
    }

`, f, f%10, p, p, p, 1+f%9, p, 40+f%20, p)
	for i := 0; i < k; i++ {
		name := fmt.Sprintf("%s C%03d", p, i)
		country := FilterCountries[(f+i)%len(FilterCountries)]
		switch i % 5 {
		case 0: // executable, executed by the batch campaign that follows it
			fmt.Fprintf(&b, `    executable campaign "%s" {
      smart list {
        filter Email is not empty
        filter Unsubscribed is not true
      }
      flow {
        change score LeadScore by "{{my.Score Change}}"
        interesting moment milestone "Scored in {{program.Name}}"
      }
      qualify every time
    }

`, name)
		case 1:
			fmt.Fprintf(&b, `    batch campaign "%s" {
      description "Invites %s people to {{my.Event Name}}"
      smart list {
        filter Country in ["%s", "AT", "CH"]
        filter LeadScore between %d and 90
        filter member of list "Subscribers"
        logic 1 and (2 or 3)
      }
      flow {
        execute campaign "%s C%03d" use parent tokens
        if LeadScore >= 50 and Country is "%s" {
          add to list "Hot Leads"
          change program status to "Invited"
        } else if Segment is empty {
          change data value Segment to "Nurture {{my.Event Name}}"
        } else {
          send email "Invitation"
        }
        wait 2 days
%s      }
      run at 2026-12-01T09:00:00Z
      qualify once every 30 days
    }

`, name, country, country, i%40, p, i-1, country, request(p, i+2, k))
		case 2:
			fmt.Fprintf(&b, `    trigger campaign "%s" {
      smart list {
        trigger fills out form "Signup"
        trigger added to list "Hot Leads"
        filter Email is not empty
        filter Title starts with "VP"
      }
      flow {
        add to list "Attendees"
        change program status to "Registered"
        call webhook "Sync"
        send alert "{{lead.Email}} signed up for {{my.Event Name}}" to "sales@acme.example"
      }
      active
      qualify every time
    }

`, name)
		case 3:
			fmt.Fprintf(&b, `    trigger campaign "%s" {
      smart list {
        trigger campaign is requested from flow, api
      }
      flow {
        send email "Invitation"
        interesting moment email "Invited by {{my.Sender %s}}"
      }
      active
      qualify every time
    }

`, name, p)
		case 4:
			fmt.Fprintf(&b, `    trigger campaign "%s" {
      smart list {
        trigger data value changes Segment
        filter Segment contains "nurture"
        filter not member of list "Hot Leads"
      }
      flow {
        if LeadScore > 30 or member of program "Program %s" {
          change score LeadScore by "+5"
        }
        remove from list "Attendees"
      }
      active
      qualify once
    }

`, name, p)
		}
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// request is a request step for campaign i of program p, if it exists.
func request(p string, i, k int) string {
	if i >= k {
		return ""
	}
	return fmt.Sprintf("        request campaign \"%s C%03d\"\n", p, i)
}

// EventsProject is the canonical workload plus `triggers` active trigger
// campaigns (a multiple of 20), each listening to one event key, five to
// a key: half to form fills of one of triggers/10 forms, a quarter to
// additions to one of triggers/20 lists, a quarter to changes of one of
// triggers/20 text fields. Each flow scores the person, which raises an
// event nobody listens to, and logs an interesting moment.
func EventsProject(triggers int) []lang.Source {
	forms, lists, fields := triggers/10, triggers/20, triggers/20
	var b strings.Builder
	b.WriteString("workspace \"Bench\"\n\n")
	for i := 0; i < forms; i++ {
		fmt.Fprintf(&b, "form \"Form %03d\"\n", i)
	}
	for i := 0; i < lists; i++ {
		fmt.Fprintf(&b, "list \"List %03d\"\n", i)
	}
	for i := 0; i < fields; i++ {
		fmt.Fprintf(&b, "field F%03d text\n", i)
	}
	b.WriteString("\nprogram \"Events\" {\n  token \"Label\" text \"events\"\n")
	n := 0
	camp := func(trigger string) {
		fmt.Fprintf(&b, `  trigger campaign "T%04d" {
    smart list {
      trigger %s
      filter Country is not empty
    }
    flow {
      change score LeadScore by "+1"
      interesting moment web "T%04d saw {{trigger.Name}} ({{my.Label}})"
    }
    active
    qualify every time
  }
`, n, trigger, n)
		n++
	}
	for i := 0; i < forms; i++ {
		for k := 0; k < 5; k++ {
			camp(fmt.Sprintf("fills out form \"Form %03d\"", i))
		}
	}
	for i := 0; i < lists; i++ {
		for k := 0; k < 5; k++ {
			camp(fmt.Sprintf("added to list \"List %03d\"", i))
		}
	}
	for i := 0; i < fields; i++ {
		for k := 0; k < 5; k++ {
			camp(fmt.Sprintf("data value changes F%03d", i))
		}
	}
	b.WriteString("}\n")
	return append(CanonicalSources(), lang.Source{Name: "events.camp", Text: b.String()})
}

// Event is the i-th event of the stream for a population of `people` and a
// project made by EventsProject(triggers): half form fills, a quarter list
// additions, a quarter data value changes, spread over every key and
// person. Every event matches the five campaigns of its key (a list
// addition only the first time a person joins that list).
func Event(i, people, triggers int) storage.Event {
	person := PersonID(int(mix(uint64(i)) % uint64(people)))
	forms, lists, fields := triggers/10, triggers/20, triggers/20
	switch i % 4 {
	case 0, 1:
		return storage.Event{Kind: ir.TrigFillsOutForm, Person: person, Form: fmt.Sprintf("Form %03d", (i/2)%forms)}
	case 2:
		l := fmt.Sprintf("List %03d", (i/4)%lists)
		return storage.Event{Kind: ir.TrigAddedToList, Person: person, List: l, ListKey: Workspace + "/" + l}
	default:
		return storage.Event{Kind: ir.TrigDataChanges, Person: person, Field: fmt.Sprintf("F%03d", (i/4)%fields), New: "v" + strconv.Itoa(i)}
	}
}

// PersonID is the Id of person i; Ids sort in generation order.
func PersonID(i int) string { return fmt.Sprintf("P%07d", i) }

var (
	countries  = []string{"DE", "AT", "CH", "FR", "NL", "GB", "ES", "IT", "SE", "DK", "US", "BR"}
	firstNames = []string{"Lena", "Sam", "Kim", "Ana", "Jon", "Mei", "Ravi", "Ola", "Iris", "Tom"}
	segments   = []string{"", "Enterprise", "SMB", "Nurture A", "Student"}
	titles     = []string{"VP Sales", "CTO", "Engineer", "VP Marketing", "Analyst", ""}
)

// Person is person i of the population of a seed. About 72% qualify for
// the canonical batch campaign: a country among the filter's (some
// written in lower case, which the filter matches: text comparisons ignore
// case), or none at all; a lead score from 0 to 99.5; on the
// "Subscribers" list or not; and a few already on "Hot Leads".
func Person(seed uint64, i int) *storage.Person {
	r := rng(mix(seed ^ mix(uint64(i)+0x9e3779b97f4a7c15)))
	id := PersonID(i)
	f := make(map[string]ir.Value, 8)
	f["Id"] = ir.NewText(stdlib.Text, id)
	first := firstNames[r.intn(len(firstNames))]
	f["FirstName"] = ir.NewText(stdlib.Text, first)
	f["Email"] = ir.NewText(stdlib.Email, fmt.Sprintf("%s.%d@mail%d.example", strings.ToLower(first), i, r.intn(50)))
	switch c := r.intn(100); {
	case c < 3: // no country
	case c < 90:
		country := countries[r.intn(10)]
		if r.intn(20) == 0 {
			country = strings.ToLower(country)
		}
		f["Country"] = ir.NewText(stdlib.Text, country)
	default:
		f["Country"] = ir.NewText(stdlib.Text, countries[10+r.intn(2)])
	}
	f["LeadScore"] = ir.NewNumber(stdlib.Score, float64(r.intn(200))/2)
	if s := segments[r.intn(len(segments))]; s != "" {
		f["Segment"] = ir.NewText(stdlib.Text, s)
	}
	if t := titles[r.intn(len(titles))]; t != "" {
		f["Title"] = ir.NewText(stdlib.Text, t)
	}
	lists := make(map[string]bool, 2)
	if r.intn(100) < 92 {
		lists[SubscribersKey] = true
	}
	if r.intn(100) < 3 {
		lists[HotLeadsKey] = true
	}
	return &storage.Person{ID: id, Fields: f, Lists: lists}
}

// People is persons [from, to) of the population of a seed.
func People(seed uint64, from, to int) []*storage.Person {
	out := make([]*storage.Person, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, Person(seed, i))
	}
	return out
}

// PeopleCSVHeader is the header PeopleCSV writes: the fields of Person
// that a CSV people file can carry (lists it cannot).
var PeopleCSVHeader = []string{"Id", "FirstName", "Email", "Country", "LeadScore", "Segment", "Title"}

// PeopleCSV writes persons [from, to) of the population of a seed as a
// people file for the canonical project, one row at a time, for campc
// import and run --people.
func PeopleCSV(w io.Writer, seed uint64, from, to int) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(PeopleCSVHeader); err != nil {
		return err
	}
	row := make([]string, len(PeopleCSVHeader))
	for i := from; i < to; i++ {
		p := Person(seed, i)
		for j, name := range PeopleCSVHeader {
			v, ok := p.Fields[name]
			switch {
			case !ok:
				row[j] = ""
			case v.Type.IsNumeric():
				row[j] = strconv.FormatFloat(v.Num, 'f', -1, 64)
			default:
				row[j] = v.Text
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// GoSource is Go source of about size bytes (never less), for go/parser to
// parse: types, methods, control flow, literals and comments, in the
// proportions of ordinary code.
func GoSource(size int) string {
	var b strings.Builder
	b.WriteString("// Code generated for the campc benchmarks. DO NOT EDIT.\n\npackage generated\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n)\n\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `// Campaign%d is one generated campaign.
type Campaign%d struct {
	Name    string
	Score   float64
	Lists   map[string]bool
	Country string
}

// Qualifies reports whether a person with these values qualifies.
func (c *Campaign%d) Qualifies(country string, score float64) bool {
	switch strings.ToUpper(country) {
	case "DE", "AT", "CH", "FR", "NL":
	default:
		return false
	}
	if score < %d || !c.Lists["Subscribers"] {
		return false
	}
	return true
}

// Run applies the flow.
func (c *Campaign%d) Run(score float64) (float64, []string) {
	var acts []string
	score += %d
	acts = append(acts, fmt.Sprintf("Change Score %%v", score))
	if score >= 50 {
		c.Lists["Hot Leads"] = true
		acts = append(acts, "Add to List")
	}
	for i := 0; i < len(c.Name); i++ {
		if c.Name[i] == ' ' {
			continue
		}
	}
	c.Country = "Engaged"
	return score, append(acts, "Change Data Value")
}

`, i, i, i, i%40, i, 1+i%9)
	}
	return b.String()
}

// rng is a small deterministic generator (splitmix64), so that the
// output never depends on a library's choice of algorithm.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	return mix(uint64(*r))
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
