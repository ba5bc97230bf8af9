package app

import (
	"testing"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
)

func TestReKeyKeyPair(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	priv, pub := pairIDs(t, mustOK(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmRSA, 2048, "rk"))))
	out := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationReKeyKeyPair,
		kmip.Text(kmip.TagPrivateKeyUniqueIdentifier, priv), kmip.Interval(kmip.TagOffset, 0))))
	npriv, npub := pairIDs(t, out)
	op, ou, np, nu := storedObj(t, s, priv), storedObj(t, s, pub), storedObj(t, s, npriv), storedObj(t, s, npub)
	if linkTo(op, kmip.LinkTypeReplacementObjectLink) != npriv || linkTo(ou, kmip.LinkTypeReplacementObjectLink) != npub ||
		linkTo(np, kmip.LinkTypeReplacedObjectLink) != priv || linkTo(nu, kmip.LinkTypeReplacedObjectLink) != pub {
		t.Fatal("replacement links wrong")
	}
	if linkTo(np, kmip.LinkTypePublicKeyLink) != npub || linkTo(nu, kmip.LinkTypePrivateKeyLink) != npriv {
		t.Fatal("the new pair is not linked")
	}
	if nameOf(np) != "rk-private" || nameOf(nu) != "rk-public" || op.AttrOf(kmip.TagName) != nil || ou.AttrOf(kmip.TagName) != nil {
		t.Fatal("names were not moved to the replacement pair")
	}
	if m, _ := nu.AttrOf(kmip.TagCryptographicUsageMask).AsInt(); m != int32(kmip.CryptographicUsageMaskVerify) || np.State != domain.Active {
		t.Fatal("attributes not copied, or the zero Offset did not activate the new pair")
	}
	mustFail(t, sendOne(t, s, bob, v14, batchItem(kmip.OperationReKeyKeyPair, kmip.Text(kmip.TagPrivateKeyUniqueIdentifier, npriv))), kmip.ResultReasonPermissionDenied)
}

// TestReKeyKeyPairLinksEveryVersion: after Re-key Key Pair each new half
// has a Replaced Object Link to the old half it replaces and each old half a
// Replacement Object Link to its successor (KMIP 1.4 §3.35 and §4.5, KMIP
// 2.1 §4.34, §6.1.45), as Get Attributes shows them at every version that
// has the operation (1.1+).
func TestReKeyKeyPairLinksEveryVersion(t *testing.T) {
	t.Parallel()
	for _, v := range allVersions[1:] {
		s := newCryptoService()
		priv, pub := pairIDs(t, mustOK(t, sendOne(t, s, alice, v, keyPairFor(v))))
		npriv, npub := pairIDs(t, mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationReKeyKeyPair,
			kmip.Text(kmip.TagPrivateKeyUniqueIdentifier, priv)))))
		for _, c := range []struct {
			id, to string
			lt     kmip.LinkType
		}{
			{npriv, priv, kmip.LinkTypeReplacedObjectLink}, {npub, pub, kmip.LinkTypeReplacedObjectLink},
			{priv, npriv, kmip.LinkTypeReplacementObjectLink}, {pub, npub, kmip.LinkTypeReplacementObjectLink},
			{npriv, npub, kmip.LinkTypePublicKeyLink}, {npub, npriv, kmip.LinkTypePrivateKeyLink},
		} {
			if !hasLink(linksOf(t, s, v, c.id), c.lt, c.to) {
				t.Errorf("%s: %s has no %s to %s", v, c.id, c.lt, c.to)
			}
		}
		// A second re-key chains on: the middle pair links both ways.
		n2priv, n2pub := pairIDs(t, mustOK(t, sendOne(t, s, alice, v, batchItem(kmip.OperationReKeyKeyPair,
			kmip.Text(kmip.TagPrivateKeyUniqueIdentifier, npriv)))))
		for _, c := range [][3]string{{npriv, n2priv, "replacement"}, {npub, n2pub, "replacement"}, {n2priv, npriv, "replaced"}, {n2pub, npub, "replaced"}} {
			lt := kmip.LinkTypeReplacementObjectLink
			if c[2] == "replaced" {
				lt = kmip.LinkTypeReplacedObjectLink
			}
			if !hasLink(linksOf(t, s, v, c[0]), lt, c[1]) {
				t.Errorf("%s: second re-key: %s has no %s to %s", v, c[0], lt, c[1])
			}
		}
		for _, id := range []string{n2priv, n2pub} {
			for _, l := range linksOf(t, s, v, id) {
				if lt, _ := l.Child(kmip.TagLinkType).AsEnum(); kmip.LinkType(lt) == kmip.LinkTypeReplacementObjectLink {
					t.Errorf("%s: the new half %s took its predecessor's Replacement Object Link", v, id)
				}
			}
		}
	}
}
