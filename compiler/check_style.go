package compiler

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/campc/campc/lang"
)

// checkStyle warns about things that check but are probably mistakes:
// trigger campaigns nothing starts, choices that can never fire, and waits
// written in months.
func checkStyle(c *checker) {
	for _, cp := range c.prog.Campaigns {
		if cp.body == nil {
			continue
		}
		if cp.Kind == Trigger && !cp.Active && len(cp.SmartList.Triggers) > 0 {
			start, end := cp.namePos()
			c.warnf(nil, lang.CodeNeverRuns, start, end, "trigger campaign %q is not active, so none of its triggers will start it; add \"active\"", cp.Name)
		}
		WalkSteps(cp.Flow, func(s *Step) {
			switch s.Op {
			case StepIf:
				c.unreachableChoices(cp, s)
			case StepWait:
				if w := s.src.Wait.For; w != nil && (w.Unit.Name == "month" || w.Unit.Name == "months") {
					us, ue := rng(w.Unit.Pos, w.Unit.EndPos)
					c.warnf(cp, lang.CodeAmbiguousWait, us, ue, "a month here is exactly 30 days, not a calendar month; write the wait in days or weeks")
				}
			}
		})
	}
}

// unreachableChoices warns about a choice whose condition repeats an earlier
// one: the first match wins, so it can never fire.
func (c *checker) unreachableChoices(cp *Campaign, s *Step) {
	seen := map[string]int{}
	for i, b := range s.Branches {
		text := c.sourceText(b.src.Cond.Pos, b.src.Cond.EndPos)
		if j, ok := seen[text]; ok {
			bs, be := rng(b.src.Cond.Pos, b.src.Cond.EndPos)
			d := c.warnf(cp, lang.CodeUnreachableChoice, bs, be, "choice %d repeats the condition of choice %d, which wins first; it can never fire", i+1, j+1)
			first := s.Branches[j].src.Cond
			fs, fe := rng(first.Pos, first.EndPos)
			d.Related = append(d.Related, lang.Related{Message: "the earlier choice", Start: fs, End: fe})
			continue
		}
		seen[text] = i
	}
}

// sourceText is the text between two positions with whitespace folded.
func (c *checker) sourceText(start, end lexer.Position) string {
	src := c.sources[start.Filename]
	if start.Offset < 0 || end.Offset > len(src) || start.Offset > end.Offset {
		return ""
	}
	return strings.Join(strings.Fields(src[start.Offset:end.Offset]), " ")
}
