package knowledge

import (
	"fmt"
	"regexp"
	"strings"
)

// Rule flags a self-edit or passage that should not be taught to the model without a
// person's look: text addressed to the model rather than facts about the world.
type Rule struct {
	Name    string `json:"name" toml:"name"`
	Pattern string `json:"pattern" toml:"pattern"` // Go RE2 syntax; matched case-insensitively
}

// Hit is one rule that matched, with the text it matched (clipped).
type Hit struct {
	Rule  string `json:"rule"`
	Match string `json:"match"`
}

// DefaultRules are the flags a run uses when its spec names none. They aim at prompt
// injection and exfiltration, not at facts: a passage about a real town never matches.
func DefaultRules() []Rule {
	return []Rule{
		{"url", `\b(?:https?|ftp)://\S+|\bwww\.[a-z0-9-]+\.[a-z]{2,}\S*`},
		{"ignore_instructions", `\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|all|your|the)\b[^.\n]{0,20}\b(?:instructions?|rules?|prompts?|guidelines?|directions?)\b`},
		{"addressed_to_model", `\b(?:you are (?:now )?(?:an? )?(?:ai|assistant|language model|chatbot)|as an ai\b|(?:dear|attention|note to(?: the)?) (?:ai|assistant|model|language model)\b)`},
		{"system_prompt", `\b(?:system prompt|developer mode|jailbreak)\b|<\|?(?:system|im_start|im_end)\|?>`},
		{"always_answer", `\b(?:always|from now on|whenever (?:you are|asked))\b[^.\n]{0,40}\b(?:answer|respond|reply|say|output)\b`},
	}
}

// Rules is a compiled rule set.
type Rules struct {
	names []string
	res   []*regexp.Regexp
}

// CompileRules checks and compiles rules; an error names the rule and the problem.
func CompileRules(rules []Rule) (*Rules, error) {
	out := &Rules{}
	seen := map[string]bool{}
	for i, r := range rules {
		name := strings.TrimSpace(r.Name)
		switch {
		case name == "":
			return nil, fmt.Errorf("guard rule %d: the name is empty", i)
		case seen[name]:
			return nil, fmt.Errorf("guard rule %q: the name is used twice", name)
		case strings.TrimSpace(r.Pattern) == "":
			return nil, fmt.Errorf("guard rule %q: the pattern is empty", name)
		}
		seen[name] = true
		re, err := regexp.Compile(`(?i)` + r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("guard rule %q: %w", name, err)
		}
		out.names = append(out.names, name)
		out.res = append(out.res, re)
	}
	return out, nil
}

// Flag returns the rules that match text, in rule order (at most one hit per rule).
func (rs *Rules) Flag(text string) []Hit {
	if rs == nil {
		return nil
	}
	var hits []Hit
	for i, re := range rs.res {
		if m := re.FindString(text); m != "" {
			if len(m) > 80 {
				m = m[:80] + "…"
			}
			hits = append(hits, Hit{Rule: rs.names[i], Match: m})
		}
	}
	return hits
}
