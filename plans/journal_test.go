package plans

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestJournalIsWrittenEventByEventAndReadBackSkippingDamage(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	j, err := CreateJournal(dir, "shop", "2.4.0", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "journal", fmt.Sprintf("shop-2.4.0-20261125T210000.000Z.%d.", os.Getpid())); !strings.HasPrefix(j.Path(), want) {
		t.Fatalf("path %s, want %s…", j.Path(), want)
	}
	for _, k := range []string{EvApplyStart, EvStepStart} {
		if err := j.Append(Event{Time: now, Kind: k, Actor: "alice@ops1"}); err != nil {
			t.Fatal(err)
		}
		// Written before Append returns: another reader sees it at once.
		raw, _ := os.ReadFile(j.Path())
		if !strings.Contains(string(raw), k) {
			t.Fatalf("%s not on disk after Append", k)
		}
	}
	j.Close()
	// Two commands in the same millisecond get two journals.
	second, err := CreateJournal(dir, "shop", "2.4.0", now)
	if err != nil || second.Path() == j.Path() {
		t.Fatalf("a second journal in the same millisecond: %v, %s", err, second.Path())
	}
	second.Close()
	f, _ := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{not json\n{\"time\":\"2026-11-25T21:00:01Z\",\"event\":\"step.end\",\"actor\":\"alice@ops1\"}\n{\"time\":\"2026-11-25T21:00:02Z\",\"ev")
	f.Close()
	raw, _ := os.Open(j.Path())
	defer raw.Close()
	events, problems, err := ReadJournal(raw)
	if err != nil || len(events) != 3 || len(problems) != 2 || problems[0].Line != 3 || problems[1].Line != 5 {
		t.Fatalf("%d events, problems %+v, %v", len(events), problems, err)
	}
}

func TestAJournalThatCannotBeWrittenSaysSoAndKeepsEventsInAFallback(t *testing.T) {
	j, err := CreateJournal(t.TempDir(), "shop", "1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	j.f.Close() // every write now fails, as on a full or removed disk
	for _, k := range []string{EvApplyStart, EvStepStart} {
		if err := j.Append(Event{Kind: k}); err == nil || !strings.Contains(err.Error(), j.Path()) {
			t.Fatalf("append %s: %v", k, err)
		}
	}
	fallback := j.Fallback()
	t.Cleanup(func() { os.Remove(fallback) })
	j.Close()
	raw, err := os.ReadFile(fallback)
	if err != nil || strings.Count(string(raw), "\n") != 2 {
		t.Fatalf("fallback %s: %q %v", fallback, raw, err)
	}
}

func TestFollowJournalsReadsTheNewestAndEveryNewerOne(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now()
	first, err := CreateJournal(dir, "shop", "1", t0)
	if err != nil {
		t.Fatal(err)
	}
	first.Append(Event{Kind: EvApplyStart, Message: "first"})
	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- FollowJournals(ctx, dir, func(path string, e Event) {
			mu.Lock()
			got = append(got, filepath.Base(path)[:7]+":"+e.Message)
			mu.Unlock()
		})
	}()
	wait := func(n int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			mu.Lock()
			l := len(got)
			mu.Unlock()
			if l >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("got %v", got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait(1)
	first.Append(Event{Kind: EvStepStart, Message: "appended"})
	wait(2)
	time.Sleep(20 * time.Millisecond) // a newer modification time
	second, err := CreateJournal(dir, "shop", "2", t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	second.Append(Event{Kind: EvRevertStart, Message: "second"})
	wait(3)
	first.Append(Event{Kind: EvOperator, Message: "late"}) // the first session goes on too
	wait(4)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(got, " "); s != "shop-1-:first shop-1-:appended shop-2-:second shop-1-:late" {
		t.Fatalf("followed %s", s)
	}
}

// BenchmarkJournalAppend measures appending events, synced in the
// background within syncDelay.
func BenchmarkJournalAppend(b *testing.B) {
	for _, kind := range []string{EvStepOutput, EvServiceChange} {
		b.Run(kind, func(b *testing.B) {
			j, err := CreateJournal(b.TempDir(), "shop", "2.4.0", time.Now())
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			for i := 0; i < b.N; i++ {
				j.Append(Event{Kind: kind, Line: "applying 2024_11_20_add_discount_code ... ok"})
			}
		})
	}
}
