package gen

import (
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/vm/storage"
)

// Names of the simulation workload.
const (
	SimBatch = "Daily Scoring" // the recurring batch campaign
	SimForm  = "Signup"        // the form most events fill out
)

// SimStart is when the simulation's first day starts: the recurring
// batch's first run.
var SimStart = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// SimEventsPerPerson is how many events a person gets a day, on average.
const SimEventsPerPerson = 0.05

// Simulation is the project of the simulation benchmark: trigger
// campaigns on form fills, list additions and data value changes whose
// flows send email, score, wait for days and change lists and fields
// (so the waits set off more triggers when they resume), and a batch
// campaign that runs every day over the whole population and scores the
// people who qualify (once a week each), adding the hot ones to a list
// that a trigger listens to.
const Simulation = `workspace "Bench"

field Segment text

list "Subscribers"
list "Hot Leads"
list "Nurture"
list "Webinar"
form "Signup"
form "Contact"

program "Simulation" {
  token "Daily Score" score "+3"

  email "Welcome" {
    subject "Welcome, {{lead.FirstName:default=there}}"
  }
  email "Follow Up" {
    subject "Still interested in {{program.Name}}?"
  }

  trigger campaign "Welcome Series" {
    smart list {
      trigger fills out form "Signup"
      filter Email is not empty
    }
    flow {
      send email "Welcome"
      change score LeadScore by "+10"
      wait 2 days
      send email "Follow Up"
      add to list "Nurture"
      wait 5 days
      change data value Segment to "Nurtured"
    }
    active
    qualify every time
  }

  trigger campaign "Contact Sales" {
    smart list {
      trigger fills out form "Contact"
    }
    flow {
      change score LeadScore by "+20"
      if LeadScore >= 80 {
        add to list "Hot Leads"
      }
      interesting moment milestone "asked for sales"
    }
    active
    qualify every time
  }

  trigger campaign "Hot Lead Alert" {
    smart list {
      trigger added to list "Hot Leads"
    }
    flow {
      send alert "{{lead.Email}} is hot" to "sales@acme.example"
      wait 1 day
      change data value Segment to "Sales Ready"
    }
    active
    qualify once
  }

  trigger campaign "Webinar Follow Up" {
    smart list {
      trigger added to list "Webinar"
    }
    flow {
      change score LeadScore by "+5"
      wait 3 days
      interesting moment web "attended the webinar"
    }
    active
    qualify every time
  }

  trigger campaign "Segment Watch" {
    smart list {
      trigger data value changes Segment
      filter Segment is "Nurtured"
    }
    flow {
      change score LeadScore by "+1"
    }
    active
    qualify every time
  }

  batch campaign "Daily Scoring" {
    smart list {
      filter Country in ["DE", "AT", "CH", "FR", "NL", "GB", "ES", "IT", "SE", "DK"]
      filter LeadScore >= 30
      filter member of list "Subscribers"
    }
    flow {
      change score LeadScore by "{{my.Daily Score}}"
      if LeadScore >= 80 {
        add to list "Hot Leads"
      }
    }
    run every 1 day starting 2026-12-01T09:00:00Z
    qualify once every 7 days
  }
}
`

// SimulationSources is the simulation project as a one-file project.
func SimulationSources() []lang.Source {
	return []lang.Source{{Name: "simulate.camp", Text: Simulation}}
}

// SimEvents is how many events day d of the simulation has for a
// population of `people` (SimEventsPerPerson each, on average, at least
// one).
func SimEvents(people int) int { return max(1, int(float64(people)*SimEventsPerPerson)) }

var simSegments = []string{"Nurture A", "SMB", "Enterprise"}

// SimEvent is event i of day d of the simulation for a population of
// `people`, and when it happens: the day's events are spread evenly over
// its 24 hours from SimStart's time of day, to people drawn at random;
// half fill out "Signup", a fifth "Contact", the rest join "Webinar" or
// have their Segment changed.
func SimEvent(d, i, people int) (time.Time, storage.Event) {
	n := SimEvents(people)
	at := SimStart.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*(24*time.Hour/time.Duration(n)))
	h := mix(uint64(d)<<32 ^ uint64(i) ^ 0x5eed)
	person := PersonID(int(h % uint64(people)))
	switch k := (h >> 32) % 20; {
	case k < 10:
		return at, storage.Event{Kind: ir.TrigFillsOutForm, Person: person, Form: SimForm}
	case k < 14:
		return at, storage.Event{Kind: ir.TrigFillsOutForm, Person: person, Form: "Contact"}
	case k < 17:
		return at, storage.Event{Kind: ir.TrigAddedToList, Person: person, List: "Webinar", ListKey: Workspace + "/Webinar"}
	default:
		return at, storage.Event{Kind: ir.TrigDataChanges, Person: person, Field: "Segment", New: simSegments[(h>>40)%3]}
	}
}
