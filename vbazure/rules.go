package vbazure

import (
	"regexp"
	"strings"
	"unicode"
)

// The product's rules for what people type, checked before a request is
// sent so that a form can say what to change next to the field.
var (
	namePattern        = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	descriptionPattern = regexp.MustCompile(`^[\p{L}\p{N}., ]{0,256}$`)
)

// Rule texts, to show beside the fields before anyone types.
const (
	NameRule        = "1 to 32 characters: letters, digits, underscores (_) and hyphens (-)."
	DescriptionRule = "Letters, digits, dots, commas and spaces; at most 256 characters."
	PasswordRule    = "At least 8 characters, with upper- and lower-case letters and digits, and no run of four characters in a row such as 1234, abcd or dcba."
)

// NameProblem says what is wrong with a user name, or "".
func NameProblem(name string) string {
	if !namePattern.MatchString(name) {
		return "Use " + lowerFirst(NameRule)
	}
	return ""
}

// DescriptionProblem says what is wrong with a description, or "".
func DescriptionProblem(d string) string {
	if !descriptionPattern.MatchString(d) {
		return "Use " + lowerFirst(DescriptionRule)
	}
	return ""
}

// PasswordProblem says what is wrong with a new password, or "".
func PasswordProblem(p string) string {
	var upper, lower, digit bool
	for _, r := range p {
		upper = upper || unicode.IsUpper(r)
		lower = lower || unicode.IsLower(r)
		digit = digit || unicode.IsDigit(r)
	}
	var missing []string
	switch {
	case len([]rune(p)) < 8:
		return "Use at least 8 characters."
	case len(p) > 128:
		return "Use at most 128 characters."
	}
	if !upper {
		missing = append(missing, "an upper-case letter")
	}
	if !lower {
		missing = append(missing, "a lower-case letter")
	}
	if !digit {
		missing = append(missing, "a digit")
	}
	if len(missing) > 0 {
		return "Add " + strings.Join(missing, " and ") + "."
	}
	if run := runOf(p, 4); run != "" {
		return "Avoid runs of characters in a row such as " + run + "."
	}
	return ""
}

// runOf finds n or more characters in a row that step by one up or down
// (1234, abcd, 4321), letters compared without case.
func runOf(s string, n int) string {
	rs := []rune(s)
	low := []rune(strings.ToLower(s))
	for i := 0; i+n <= len(low); i++ {
		up, down := true, true
		for j := 1; j < n; j++ {
			up = up && low[i+j] == low[i+j-1]+1
			down = down && low[i+j] == low[i+j-1]-1
		}
		if up || down {
			return string(rs[i : i+n])
		}
	}
	return ""
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
