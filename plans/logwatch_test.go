package plans

import (
	"testing"
	"time"

	"github.com/golive/golive/logs"
)

func TestLogFollowerMasksThePreviousValuesOfSecretsFoundInAContainerEnvironment(t *testing.T) {
	p, err := Parse("/p.yaml", []byte("project: x\nrelease: '2'\nsecrets: [DB_PW]\nservices:\n  api:\n    image: a\n    env: {DSN: 'postgres://u:${DB_PW}@db', API_TOKEN: '${TOKEN}', HOST: db}\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DB_PW": "new-pw-2", "TOKEN": "tok-new"}
	m := NewMasker(p, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	opts, err := p.LogOptions(m)
	if err != nil {
		t.Fatal(err)
	}
	// The kept container of the previous release, as the follower meets it.
	prev := []string{"DSN=postgres://u:old-pw-1@db", "API_TOKEN=tok-old", "HOST=db-old", "DB_PW=old-pw-1"}
	m.AddEnv(prev)
	buf := logs.NewBuffer(10)
	in := logs.NewIngester("api", buf, nil, 0)
	in.Secrets = opts.Secrets
	for _, line := range []string{
		"dial postgres://u:old-pw-1@db failed",
		"auth with tok-old then tok-new, password new-pw-2",
		"HOST is db-old",
	} {
		in.Add("stdout", time.Now(), []byte(line), 0)
	}
	var got []string
	for _, l := range buf.Window(0, 10, nil) {
		got = append(got, l.Text)
	}
	want := []string{"dial **** failed", "auth with **** then ****, password ****", "HOST is db-old"}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("lines %q, want %q", got, want)
		}
	}
	if s := m.Mask("journal: tok-old"); s != "journal: ****" {
		t.Fatalf("the journal's masker does not know the previous value: %s", s)
	}
}
