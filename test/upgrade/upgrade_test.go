// Package upgrade opens stores written by an earlier kmipd release with the
// kmipd of this tree: every object, value and attribute must still be there,
// and the store must keep working (new objects, a restart).
//
// testdata/RELEASE-{sqlite,bbolt}.db were written by the kmipd of commit
// RELEASE with testdata/generate.sh; RELEASE-manifest.json names the objects.
// When a release changes the storage format, generate the files of the
// release before it and add it to releases.
package upgrade

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kmipd/kmipd/adapters/transport/kmipclient"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/test/harness"
)

// releases are the earlier releases whose stores this tree must open.
var releases = []string{"eaa554d"}

// manifest names the objects generate.sh made, per storage engine.
type manifest map[string]struct {
	AES, Secret, Private, Public, Certificate, Destroyed string
}

func uid(id string) *kmip.Item { return kmip.Text(kmip.TagUniqueIdentifier, id) }

func TestOpenEarlierReleaseStores(t *testing.T) {
	for _, rel := range releases {
		var m manifest
		b, err := os.ReadFile(filepath.Join("testdata", rel+"-manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, storage := range []string{"sqlite", "bbolt"} {
			t.Run(rel+"/"+storage, func(t *testing.T) {
				srv := harness.Start(t, harness.Options{Storage: storage})
				srv.Stop(t)
				old, err := os.ReadFile(filepath.Join("testdata", rel+"-"+storage+".db"))
				if err != nil {
					t.Fatal(err)
				}
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(srv.DBPath + suffix)
				}
				if err := os.WriteFile(srv.DBPath, old, 0o600); err != nil {
					t.Fatal(err)
				}
				srv.Restart(t)
				ids := m[storage]
				checkUnindexedLocate(t, srv.Dial(t, "admin", 1, 4), ids.AES)
				checkObjects(t, srv.Dial(t, "admin", 1, 4), ids.AES, ids.Secret, ids.Private, ids.Public, ids.Certificate, ids.Destroyed)
				c := srv.Dial(t, "admin", 2, 1)
				out := harness.Call(t, c, kmip.OperationCreate, kmipclient.CreateSymmetricKey(kmip.CryptographicAlgorithmAES, 128, kmip.CryptographicUsageMaskEncrypt, "after-upgrade")...)
				newID, _ := out.Child(kmip.TagUniqueIdentifier).AsText()
				srv.Restart(t)
				c = srv.Dial(t, "admin", 1, 4)
				harness.Call(t, c, kmip.OperationGet, uid(newID))
				checkObjects(t, c, ids.AES, ids.Secret, ids.Private, ids.Public, ids.Certificate, ids.Destroyed)
			})
		}
	}
}

// checkObjects reads back what generate.sh stored.
func checkObjects(t *testing.T, c *kmipclient.Client, aes, secret, priv, pub, cert, destroyed string) {
	t.Helper()
	out := harness.Call(t, c, kmip.OperationGet, uid(aes))
	key, _ := out.Path(kmip.TagSymmetricKey, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	want := make([]byte, 32)
	for i := range want {
		want[i] = byte(i)
	}
	if !bytes.Equal(key, want) {
		t.Errorf("AES key material %x, want %x", key, want)
	}
	attrs := harness.Call(t, c, kmip.OperationGetAttributes, uid(aes), kmip.Text(kmip.TagAttributeName, "x-note"),
		kmip.Text(kmip.TagAttributeName, "State"))
	got := map[string]*kmip.Item{}
	for _, a := range attrs.ChildrenOf(kmip.TagAttribute) {
		n, _ := a.Child(kmip.TagAttributeName).AsText()
		got[n] = a.Child(kmip.TagAttributeValue)
	}
	if v, _ := got["x-note"].AsText(); v != "kept across upgrades" {
		t.Errorf("x-note = %q", v)
	}
	if v, _ := got["State"].AsEnum(); kmip.State(v) != kmip.StateActive {
		t.Errorf("State = %v, want Active", got["State"])
	}
	loc := harness.Call(t, c, kmip.OperationLocate, kmipclient.NameAttribute("upgrade-aes"))
	if id, _ := loc.Child(kmip.TagUniqueIdentifier).AsText(); id != aes {
		t.Errorf("Locate by name found %q, want %q", id, aes)
	}
	out = harness.Call(t, c, kmip.OperationGet, uid(secret))
	if v, _ := out.Path(kmip.TagSecretData, kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes(); string(v) != "hunter2" {
		t.Errorf("secret data %q", v)
	}
	out = harness.Call(t, c, kmip.OperationGet, uid(priv))
	if out.Child(kmip.TagPrivateKey) == nil {
		t.Errorf("private key: %v", out)
	}
	harness.Call(t, c, kmip.OperationGet, uid(pub))
	out = harness.Call(t, c, kmip.OperationGet, uid(cert))
	der, _ := out.Path(kmip.TagCertificate, kmip.TagCertificateValue).AsBytes()
	if _, err := x509.ParseCertificate(der); err != nil {
		t.Errorf("certificate: %v", err)
	}
	if _, err := c.Call(kmip.OperationGet, uid(destroyed)); err == nil {
		t.Error("Get of a destroyed key succeeded")
	}
	st := harness.Call(t, c, kmip.OperationGetAttributes, uid(destroyed), kmip.Text(kmip.TagAttributeName, "State"))
	if v, _ := st.Path(kmip.TagAttribute, kmip.TagAttributeValue).AsEnum(); kmip.State(v) != kmip.StateDestroyed {
		t.Errorf("destroyed key's State = %v", st)
	}
}

// checkUnindexedLocate locates the earlier release's AES key by attributes
// this tree no longer indexes (domain.Indexed): that release wrote index
// entries for them, which this tree neither reads nor keeps up to date, so
// after a change of its Last Change Date the old entry is stale and must
// not match.
func checkUnindexedLocate(t *testing.T, c *kmipclient.Client, aes string) {
	t.Helper()
	attr := kmipclient.Attribute
	located := func(filters ...*kmip.Item) []string {
		t.Helper()
		out := harness.Call(t, c, kmip.OperationLocate, filters...)
		var ids []string
		for _, it := range out.ChildrenOf(kmip.TagUniqueIdentifier) {
			id, _ := it.AsText()
			ids = append(ids, id)
		}
		return ids
	}
	name := kmipclient.NameAttribute("upgrade-aes")
	alg := attr("Cryptographic Algorithm", kmip.Enum(0, uint32(kmip.CryptographicAlgorithmAES)))
	mask := attr("Cryptographic Usage Mask", kmip.Int(0, int32(kmip.CryptographicUsageMaskEncrypt)))
	if got := located(name, alg, attr("Cryptographic Length", kmip.Int(0, 256)), mask); len(got) != 1 || got[0] != aes {
		t.Errorf("Locate by name, AES, 256 bits and Encrypt = %q, want %s", got, aes)
	}
	if got := located(name, attr("Cryptographic Length", kmip.Int(0, 128))); len(got) != 0 {
		t.Errorf("Locate by name and 128 bits = %q, want none", got)
	}
	if got := located(alg, attr("Cryptographic Length", kmip.Int(0, 256))); !slices.Contains(got, aes) {
		t.Errorf("Locate by AES and 256 bits = %q, lacks %s", got, aes)
	}
	lastChange := func() *kmip.Item {
		t.Helper()
		out := harness.Call(t, c, kmip.OperationGetAttributes, uid(aes), kmip.Text(kmip.TagAttributeName, "Last Change Date"))
		v := out.Path(kmip.TagAttribute, kmip.TagAttributeValue)
		if v == nil {
			t.Fatalf("no Last Change Date: %v", out)
		}
		return v
	}
	before := lastChange()
	t.Logf("Last Change Date as the earlier release left it: %v", before)
	harness.Call(t, c, kmip.OperationAddAttribute, uid(aes), attr("x-after-upgrade", kmip.Text(0, "changed")))
	after := lastChange()
	if before.Equal(after) {
		t.Fatalf("Add Attribute left Last Change Date at %v", before)
	}
	if got := located(name, attr("Last Change Date", before)); len(got) != 0 {
		t.Errorf("Locate by the Last Change Date before the change = %q, want none", got)
	}
	if got := located(name, attr("Last Change Date", after)); len(got) != 1 || got[0] != aes {
		t.Errorf("Locate by the Last Change Date after the change = %q, want %s", got, aes)
	}
}
