package logs

import "testing"

func TestSecretsMaskEveryValueAndOnlyThose(t *testing.T) {
	s := NewSecrets("hunter22", "k3y", "hunter22-long-form")
	s.Add("s3cr3t-v1")
	for _, c := range []struct{ name, in, want string }{
		{"a line without a secret is unchanged", "GET /health 200", "GET /health 200"},
		{"a secret is masked wherever it appears", "pw=hunter22 again hunter22", "pw=**** again ****"},
		{"the longest secret is masked whole", "x hunter22-long-form y", "x **** y"},
		{"values shorter than four bytes are not masked", "k3y", "k3y"},
		{"a value added later is masked too", "old=s3cr3t-v1 new=hunter22", "old=**** new=****"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, _ := s.Mask([]byte(c.in), nil); string(got) != c.want {
				t.Fatalf("Mask(%q) = %q, want %q", c.in, got, c.want)
			}
			if got := s.MaskString(c.in); got != c.want {
				t.Fatalf("MaskString(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestIngesterMasksSecretsBeforeTheBufferHoldsThem(t *testing.T) {
	buf := NewBuffer(10)
	in := NewIngester("api", buf, nil, 0)
	in.Secrets = NewSecrets("hunter22")
	in.Add("stdout", t0, []byte("connect postgres://u:hunter22@db"), 0)
	if n := buf.Count(&Filter{Text: "hunter22"}); n != 0 {
		t.Fatalf("search finds the secret in %d lines", n)
	}
	if l := buf.Window(0, 1, nil); len(l) != 1 || l[0].Text != "connect postgres://u:****@db" {
		t.Fatalf("buffer holds %+v", l)
	}
}
