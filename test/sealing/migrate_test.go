package sealing

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// release is the earlier release whose stores (test/upgrade/testdata,
// written by its generate.sh) hold key material in clear.
const release = "eaa554d"

type manifest map[string]struct {
	AES, Secret, Private, Public, Certificate, Destroyed string
}

// A store written by the previous release holds its keys in clear; kmipd
// seal migrate (kmipd stopped) seals it in place: afterwards no file of the
// store holds the AES key's or the secret's bytes, kmipd sealed under the
// key file serves every object, and a second migrate has nothing to do.
func TestMigrateEarlierReleaseStore(t *testing.T) {
	var m manifest
	b, err := os.ReadFile(filepath.Join("..", "upgrade", "testdata", release+"-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	aesKey := make([]byte, 32)
	for i := range aesKey {
		aesKey[i] = byte(i)
	}
	secretBytes := []byte("hunter2")
	for _, storage := range []string{"sqlite", "bbolt"} {
		t.Run(storage, func(t *testing.T) {
			srv := harness.Start(t, harness.Options{Storage: storage})
			srv.Stop(t)
			old, err := os.ReadFile(filepath.Join("..", "upgrade", "testdata", release+"-"+storage+".db"))
			if err != nil {
				t.Fatal(err)
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(srv.DBPath + suffix)
			}
			if err := os.WriteFile(srv.DBPath, old, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, k := range [][]byte{aesKey, secretBytes} {
				if len(storeFilesHolding(t, srv.DBPath, k)) == 0 {
					t.Fatalf("the earlier release's store does not hold %x in clear: the scan sees nothing", k)
				}
			}
			key := keygen(t, t.TempDir(), "kek")
			cfg, _ := os.ReadFile(srv.ConfigPath)
			if err := os.WriteFile(srv.ConfigPath, append(cfg, sealTOML(key)...), 0o600); err != nil {
				t.Fatal(err)
			}
			r := harness.Run(t, srv.Dir, "seal", "migrate", "-config", srv.ConfigPath)
			if r.ExitCode != 0 || !strings.Contains(r.Stdout, "seal migrate complete") {
				t.Fatalf("kmipd seal migrate: exit %d: %s%s", r.ExitCode, r.Stdout, r.Stderr)
			}
			for name, k := range map[string][]byte{"AES key": aesKey, "secret data": secretBytes} {
				if f := storeFilesHolding(t, srv.DBPath, k); len(f) > 0 {
					t.Errorf("after migrate, %v hold the %s in clear", f, name)
				}
			}
			r = harness.Run(t, srv.Dir, "seal", "migrate", "-config", srv.ConfigPath)
			if r.ExitCode != 0 || !strings.Contains(r.Stdout, " 0 resealed") {
				t.Errorf("second migrate: exit %d: %s%s", r.ExitCode, r.Stdout, r.Stderr)
			}
			srv.Restart(t)
			c := srv.Dial(t, "admin", 1, 4)
			ids := m[storage]
			out := harness.Call(t, c, kmip.OperationGet, uid(ids.AES))
			if v, _ := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(v, aesKey) {
				t.Errorf("AES key after migrate: %x", v)
			}
			out = harness.Call(t, c, kmip.OperationGet, uid(ids.Secret))
			if v, _ := out.Path(kmip.TagSecretData, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); !bytes.Equal(v, secretBytes) {
				t.Errorf("secret data after migrate: %q", v)
			}
			for _, id := range []string{ids.Private, ids.Public, ids.Certificate} {
				harness.Call(t, c, kmip.OperationGet, uid(id))
			}
			if strings.Contains(srv.LogContents(t), "holds key material in clear") {
				t.Error("kmipd still finds clear key material after migrate")
			}
		})
	}
}

// A store written in clear by this kmipd without [seal] (the record format
// of today's main) is sealed in place by kmipd seal migrate: every kind of
// secret leaves the store's files and reads back through a sealed kmipd.
func TestMigrateClearStore(t *testing.T) {
	for _, storage := range []string{"sqlite", "bbolt"} {
		t.Run(storage, func(t *testing.T) {
			srv := harness.Start(t, harness.Options{Storage: storage})
			secrets := writeSecrets(t, srv.Dial(t, "admin", 1, 4))
			srv.Stop(t)
			found := 0
			for _, s := range secrets {
				found += len(storeFilesHolding(t, srv.DBPath, s.bytes))
			}
			if found == 0 {
				t.Fatal("the clear store holds no key in clear: the scan sees nothing")
			}
			writeConfig(t, srv, sealTOML(keygen(t, t.TempDir(), "kek")))
			r := harness.Run(t, srv.Dir, "seal", "migrate", "-config", srv.ConfigPath)
			if r.ExitCode != 0 || !strings.Contains(r.Stdout, "6 resealed") {
				t.Fatalf("kmipd seal migrate: exit %d: %s%s", r.ExitCode, r.Stdout, r.Stderr)
			}
			for _, s := range secrets {
				if f := storeFilesHolding(t, srv.DBPath, s.bytes); len(f) > 0 {
					t.Errorf("after migrate, %v hold the %s bytes", f, s.name)
				}
			}
			srv.Restart(t)
			checkSecrets(t, srv.Dial(t, "admin", 1, 4), secrets)
		})
	}
}
