package sealing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// sealedServer starts kmipd sealed under a new key file, writes a key and
// stops it; it returns the server, its configuration text and the key file.
func sealedServer(t *testing.T, storage string) (*harness.Server, string, string) {
	t.Helper()
	key := keygen(t, t.TempDir(), "kek")
	srv := harness.Start(t, harness.Options{Storage: storage, ExtraTOML: sealTOML(key)})
	writeSecrets(t, srv.Dial(t, "admin", 1, 4))
	srv.Stop(t)
	cfg, err := os.ReadFile(srv.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	return srv, string(cfg), key
}

// A sealed store opened with another key file, without its key file, with a
// key file others may read, or without [seal] at all: kmipd exits 78 before
// listening, with one line naming the [seal] key.
func TestWrongOrMissingKEKExits78(t *testing.T) {
	for _, storage := range []string{"sqlite", "bbolt"} {
		t.Run(storage, func(t *testing.T) {
			srv, cfg, key := sealedServer(t, storage)
			dir := t.TempDir()
			other := keygen(t, dir, "other")
			loose := filepath.Join(dir, "loose")
			b, _ := os.ReadFile(key)
			if err := os.WriteFile(loose, b, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chmod(loose, 0o644)
			noSeal := cfg[:strings.Index(cfg, "\n[seal]")]
			cases := []struct {
				name, config, want string
			}{
				{"another key file", strings.Replace(cfg, key, other, 1), "seal.key_file"},
				{"missing key file", strings.Replace(cfg, key, filepath.Join(dir, "nope"), 1), `seal.key_file "`},
				{"key file readable by others", strings.Replace(cfg, key, loose, 1), "chmod 600"},
				{"no [seal]", noSeal, "seal.type"},
				{"type none", noSeal + "\n[seal]\ntype = \"none\"\n", "seal.type"},
			}
			for _, c := range cases {
				path := filepath.Join(dir, "kmipd.toml")
				if err := os.WriteFile(path, []byte(c.config), 0o600); err != nil {
					t.Fatal(err)
				}
				r := harness.Run(t, dir, "-config", path)
				lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
				if r.ExitCode != 78 || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
					t.Errorf("%s: exit %d, stderr %q; want 78 and one line naming %q", c.name, r.ExitCode, r.Stderr, c.want)
				}
				if strings.Contains(r.Stderr, "listening") {
					t.Errorf("%s: kmipd listened", c.name)
				}
			}
			// The right key file still opens it.
			srv.Restart(t)
			harness.Call(t, srv.Dial(t, "admin", 1, 4), kmip.OperationLocate)
		})
	}
}
