package logs

import (
	"regexp"
	"testing"
	"time"
)

func TestFilterTextMatchesInAnyCaseAsTheHighlightDoes(t *testing.T) {
	tests := []struct {
		text, sub string
		want      bool
	}{
		{"time=1 level=info msg=ok", "LEVEL", true},
		{"ERROR db down", "error", true},
		{"Error db down", "eRRoR DB", true},
		{"payment declined", "DECLINED", true},
		{"payment declined", "declines", false},
		{"Größe überschritten", "GRÖSSE", false}, // ß is not ss under simple folding, as in (?i)
		{"Größe ÜBERSCHRITTEN", "überschritten", true},
		{"273 \u212Aelvin", "kelvin", true}, // the Kelvin sign folds to k
		{"273 kelvin", "\u212Aelvin", true},
		{"ΣΊΣΥΦΟΣ", "σίσυφος", true},
		{"ſtop the line", "STOP", true}, // the long s folds to s
		{"order 9912 failed", "9912 F", true},
		{"dddddd discount", "DISCOUNT", true},
		{"dddddd discoun", "DISCOUNT", false},
		{"short", "longer than the text", false},
		{"abc", "c", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.text+"/"+tt.sub, func(t *testing.T) {
			f := &Filter{Text: tt.sub}
			if got := f.Match(Line{Text: tt.text}); got != tt.want {
				t.Fatalf("Filter{Text: %q} on %q = %v, want %v", tt.sub, tt.text, got, tt.want)
			}
			re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(tt.sub))
			if re.MatchString(tt.text) != tt.want {
				t.Fatalf("the highlight's (?i) expression disagrees on %q", tt.text)
			}
		})
	}
}

func TestSearchCountsAndFindsWhatItHighlights(t *testing.T) {
	b := NewBuffer(0)
	for i, s := range []string{"time=1 level=info msg=a", "plain line", "time=2 LEVEL=warn msg=b", "Level of detail: high"} {
		b.Append("api", "stdout", t0.Add(time.Duration(i)*time.Second), LevelInfo, false, []byte(s))
	}
	f := &Filter{Text: "LEVEL"}
	if n := b.Count(f); n != 3 {
		t.Fatalf("/LEVEL counts %d lines, want 3", n)
	}
	if _, ok := b.Find(0, nil, f, true); !ok {
		t.Fatal("/LEVEL finds no line")
	}
}

// BenchmarkFilterText matches a search against typical lines, as Count
// and Find do over the whole buffer on each search key.
func BenchmarkFilterText(b *testing.B) {
	f := &Filter{Text: "Discount_Code"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f.match("api", &entry{level: LevelInfo, text: sampleLines[i%len(sampleLines)]})
	}
}
