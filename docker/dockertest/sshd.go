package dockertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SSHD is a private sshd on 127.0.0.1 that lets this user in with its own key.
type SSHD struct {
	URL        string   // ssh://user@127.0.0.1:port
	User, Port string   // as in URL
	Flags      []string // ssh options: the key, no host key checking
}

// StartSSHD starts a private sshd on 127.0.0.1, skipping when OpenSSH is
// missing. dockerHost, when set, is the DOCKER_HOST its sessions get.
func StartSSHD(t testing.TB, dockerHost string) SSHD {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(sshd); err != nil {
		t.Skip("needs OpenSSH's sshd (apt-get install openssh-server)")
	}
	for _, tool := range []string{"ssh", "ssh-keygen", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s on PATH", tool)
		}
	}
	dir := t.TempDir()
	for _, k := range []string{"host", "client"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "client.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	config := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nStrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nPidFile %s\n",
		port, filepath.Join(dir, "host"), filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "sshd.pid"))
	if dockerHost != "" {
		config += "SetEnv DOCKER_HOST=" + dockerHost + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll("/run/sshd", 0o755)
	daemon := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	user, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := SSHD{
		User:  strings.TrimSpace(string(user)),
		Port:  fmt.Sprint(port),
		Flags: []string{"-i", filepath.Join(dir, "client"), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"},
	}
	s.URL = fmt.Sprintf("ssh://%s@127.0.0.1:%s", s.User, s.Port)
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := net.Dial("tcp", "127.0.0.1:"+s.Port)
		if err == nil {
			conn.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not listen: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
