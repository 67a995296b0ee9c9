package lang

import "github.com/campc/campc/internal/textutil"

// Escape returns s fit to print on a terminal; see textutil.Escape, which
// the engine shares without importing the parser.
func Escape(s string) string { return textutil.Escape(s) }

// QuoteIfNeeded returns s as it is when it prints as itself, and quoted
// otherwise; see textutil.QuoteIfNeeded.
func QuoteIfNeeded(s string) string { return textutil.QuoteIfNeeded(s) }
