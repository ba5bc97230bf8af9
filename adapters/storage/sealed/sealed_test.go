package sealed_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmipd/kmipd/adapters/storage/bolt"
	"github.com/kmipd/kmipd/adapters/storage/sealed"
	"github.com/kmipd/kmipd/adapters/storage/sqlite"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
	"github.com/kmipd/kmipd/ports/storetest"
)

// testKEK is a KEK in memory (the real ones are in adapters/seal, another
// adapter tree): AES-256-GCM under a random key.
type testKEK struct {
	id   string
	aead cipher.AEAD
}

func newKEK(t testing.TB) ports.KEK {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return &testKEK{id: fmt.Sprintf("test:%x", key[:8]), aead: aead}
}

func (k *testKEK) ID() string { return k.id }

func (k *testKEK) WrapKey(_ context.Context, dek []byte) ([]byte, error) {
	nonce := make([]byte, 12)
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, dek, nil), nil
}

func (k *testKEK) UnwrapKey(_ context.Context, w []byte) ([]byte, error) {
	if len(w) < 12 {
		return nil, ports.ErrUnwrap
	}
	dek, err := k.aead.Open(nil, w[:12], w[12:], nil)
	if err != nil {
		return nil, ports.ErrUnwrap
	}
	return dek, nil
}

// The store contract holds through the seal, on both stores.
func TestContractSQLite(t *testing.T) {
	kek := newKEK(t)
	storetest.Exercise(t, func(path string) (ports.Store, error) {
		s, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			return nil, err
		}
		return sealed.New(s, kek).Port(), nil
	})
}

func TestContractBolt(t *testing.T) {
	kek := newKEK(t)
	storetest.Exercise(t, func(path string) (ports.Store, error) {
		s, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			return nil, err
		}
		return sealed.New(s, kek).Port(), nil
	})
}

func TestScratchContract(t *testing.T) {
	kek := newKEK(t)
	storetest.Scratch(t, func(path string) (ports.Store, error) {
		s, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			return nil, err
		}
		return sealed.New(s, kek).Port(), nil
	})
}

// known is key material the tests look for in the stored bytes.
var known = []byte("KNOWN-KEY-BYTES-0123456789abcdef")

func keyObject(id string, typ kmip.ObjectType) *domain.Object {
	o := storetest.Sample(id)
	o.Type = uint32(typ)
	o.Payload = kmip.Struct(kmip.TagSymmetricKey, kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, bytes.Clone(known)))))
	return o
}

func openSQLite(t *testing.T, path string) *sqlite.Store {
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// scanDir fails the test when any file under dir holds needle.
func scanDir(t *testing.T, dir string, needle []byte) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, needle) {
			t.Errorf("%s holds the key material in clear", p)
		}
		return nil
	})
}

func TestSecretPayloadNeverStoredInClear(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	inner := openSQLite(t, filepath.Join(dir, "k.db"))
	s := sealed.New(inner, newKEK(t))
	for i, typ := range []kmip.ObjectType{kmip.ObjectTypeSymmetricKey, kmip.ObjectTypePrivateKey,
		kmip.ObjectTypeSplitKey, kmip.ObjectTypeSecretData, kmip.ObjectTypeOpaqueObject, kmip.ObjectTypePGPKey} {
		id := string(rune('a' + i))
		if err := s.Create(ctx, keyObject(id, typ)); err != nil {
			t.Fatal(err)
		}
		raw, err := inner.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !sealed.IsSealed(raw) {
			t.Fatalf("%s: stored payload is not sealed", typ)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial); m == nil || !bytes.Equal(m.Value.([]byte), known) {
			t.Fatalf("%s: Get did not give the key material back", typ)
		}
		if err := s.Update(ctx, id, func(o *domain.Object) error {
			o.SetAttr("Contact Information", kmip.Text(kmip.TagContactInformation, "x"))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A public key stays in clear.
	pub := keyObject("pub", kmip.ObjectTypePublicKey)
	if err := s.Create(ctx, pub); err != nil {
		t.Fatal(err)
	}
	if raw, _ := inner.Get(ctx, "pub"); sealed.IsSealed(raw) {
		t.Fatal("a public key was sealed")
	}
	if err := s.Update(ctx, "pub", func(o *domain.Object) error { o.Payload = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	inner.Close()
	scanDir(t, dir, known)
}

func TestEnvelopeBoundToObjectAndRevision(t *testing.T) {
	ctx := context.Background()
	inner := openSQLite(t, filepath.Join(t.TempDir(), "k.db"))
	s := sealed.New(inner, newKEK(t))
	for _, id := range []string{"a", "b"} {
		if err := s.Create(ctx, keyObject(id, kmip.ObjectTypeSymmetricKey)); err != nil {
			t.Fatal(err)
		}
	}
	rawA, _ := inner.Get(ctx, "a")
	// a's envelope moved into b does not open.
	if err := inner.Update(ctx, "b", func(o *domain.Object) error { o.Payload = rawA.Payload; o.Revision = rawA.Revision; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "b"); !errors.Is(err, sealed.ErrUnseal) {
		t.Fatalf("moved envelope: err = %v, want ErrUnseal", err)
	}
	// a's older envelope put back into a newer record of a does not open.
	if err := s.Update(ctx, "a", func(*domain.Object) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := inner.Update(ctx, "a", func(o *domain.Object) error { o.Payload = rawA.Payload; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, sealed.ErrUnseal) {
		t.Fatalf("rolled-back envelope: err = %v, want ErrUnseal", err)
	}
	// An update of an object that does not open writes nothing.
	if err := s.Update(ctx, "a", func(*domain.Object) error { return nil }); !errors.Is(err, sealed.ErrUnseal) {
		t.Fatalf("Update of a rolled-back envelope: err = %v, want ErrUnseal", err)
	}
}

func TestDestroyDropsDataKey(t *testing.T) {
	ctx := context.Background()
	inner := openSQLite(t, filepath.Join(t.TempDir(), "k.db"))
	s := sealed.New(inner, newKEK(t))
	if err := s.Create(ctx, keyObject("a", kmip.ObjectTypeSymmetricKey)); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, "a", func(o *domain.Object) error { o.Payload = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	raw, err := inner.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if raw.Payload != nil {
		t.Fatal("the destroyed object keeps a payload (and its wrapped data key)")
	}
}

func TestRotationAndCheck(t *testing.T) {
	ctx := context.Background()
	inner := openSQLite(t, filepath.Join(t.TempDir(), "k.db"))
	oldKEK, newKEK2, other := newKEK(t), newKEK(t), newKEK(t)
	old := sealed.New(inner, oldKEK)
	const n = 600 // more than one page
	for i := 0; i < n; i++ {
		if err := old.Create(ctx, keyObject(string(rune(0x4e00+i)), kmip.ObjectTypeSecretData)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sealed.New(inner, other).Check(ctx); !errors.Is(err, sealed.ErrUnseal) {
		t.Fatalf("Check under another KEK: err = %v, want ErrUnseal", err)
	}
	if sv, err := old.Check(ctx); err != nil || sv.KEKs[oldKEK.ID()] == 0 {
		t.Fatalf("Check under the KEK: %+v, %v", sv, err)
	}
	rot := sealed.New(inner, newKEK2, oldKEK)
	// Interrupted after the first page, it resumes.
	cctx, cancel := context.WithCancel(ctx)
	p, err := rot.Reseal(cctx, func(sealed.Progress) { cancel() })
	if !errors.Is(err, context.Canceled) && err != nil {
		t.Fatal(err)
	}
	if p.Resealed == 0 || p.Resealed >= n {
		t.Fatalf("interrupted rotation resealed %d of %d", p.Resealed, n)
	}
	p2, err := rot.Reseal(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Resealed+p2.Resealed != n || p2.Seen != n {
		t.Fatalf("rotation resealed %d then %d (saw %d), want %d in all", p.Resealed, p2.Resealed, p2.Seen, n)
	}
	onlyNew := sealed.New(inner, newKEK2)
	if _, err := onlyNew.Check(ctx); err != nil {
		t.Fatal(err)
	}
	ids, _ := inner.Locate(ctx, ports.LocateQuery{})
	for _, id := range ids {
		if _, err := onlyNew.Get(ctx, id); err != nil {
			t.Fatalf("after rotation, without the old KEK: %v", err)
		}
	}
	if _, err := old.Get(ctx, ids[0]); !errors.Is(err, sealed.ErrUnseal) {
		t.Fatalf("old KEK alone after rotation: err = %v, want ErrUnseal", err)
	}
}

func TestMigrateClearObjects(t *testing.T) {
	ctx := context.Background()
	inner := openSQLite(t, filepath.Join(t.TempDir(), "k.db"))
	if err := inner.Create(ctx, keyObject("clear", kmip.ObjectTypeSymmetricKey)); err != nil {
		t.Fatal(err)
	}
	if err := inner.Create(ctx, keyObject("pub", kmip.ObjectTypePublicKey)); err != nil {
		t.Fatal(err)
	}
	if sv, err := sealed.Probe(ctx, inner); err != nil || sv.Clear != 1 || len(sv.KEKs) != 0 {
		t.Fatalf("Probe of a clear store: %+v, %v", sv, err)
	}
	s := sealed.New(inner, newKEK(t))
	if _, err := s.Get(ctx, "clear"); err != nil {
		t.Fatalf("a clear object of an unmigrated store: %v", err)
	}
	p, err := s.Reseal(ctx, nil)
	if err != nil || p.Resealed != 1 || p.Seen != 2 {
		t.Fatalf("Reseal = %+v, %v; want 1 of 2 resealed", p, err)
	}
	raw, _ := inner.Get(ctx, "clear")
	if !sealed.IsSealed(raw) {
		t.Fatal("migrated object is still clear")
	}
	if got, err := s.Get(ctx, "clear"); err != nil || got.Payload.Tag != kmip.TagSymmetricKey {
		t.Fatalf("migrated object: %v", err)
	}
}

func TestScratchSealed(t *testing.T) {
	ctx := context.Background()
	inner := openSQLite(t, filepath.Join(t.TempDir(), "k.db"))
	s := sealed.New(inner, newKEK(t)).Port().(ports.ScratchStore)
	if err := s.PutScratch(ctx, "k1", known, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	raw, err := inner.GetScratch(ctx, "k1")
	if err != nil || bytes.Contains(raw, known) {
		t.Fatalf("scratch value stored in clear (err %v)", err)
	}
	if got, err := s.GetScratch(ctx, "k1"); err != nil || !bytes.Equal(got, known) {
		t.Fatalf("GetScratch: %v", err)
	}
	// AddScratch seals too.
	if err := s.AddScratch(ctx, "k3", known, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if raw3, err := inner.GetScratch(ctx, "k3"); err != nil || bytes.Contains(raw3, known) {
		t.Fatalf("added scratch value stored in clear (err %v)", err)
	}
	if got, err := s.GetScratch(ctx, "k3"); err != nil || !bytes.Equal(got, known) {
		t.Fatalf("GetScratch(k3): %v", err)
	}
	// A value moved to another key does not open.
	if err := inner.PutScratch(ctx, "k2", raw, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeScratch(ctx, "k2"); !errors.Is(err, sealed.ErrUnseal) {
		t.Fatalf("moved scratch value: err = %v, want ErrUnseal", err)
	}
}
