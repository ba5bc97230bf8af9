package app

import (
	"bytes"
	"testing"

	"github.com/kmipd/kmipd/domain/kmip"
)

func TestStreamedSign(t *testing.T) {
	t.Parallel()
	s := newCryptoService()
	priv, _ := pairIDs(t, mustOK(t, sendOne(t, s, alice, v14, keyPair14(kmip.CryptographicAlgorithmECDSA, 256, "e"))))
	whole := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSign, uidItem(priv), data([]byte("hello world")))))
	p1 := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSign, uidItem(priv), data([]byte("hello ")), kmip.Bool(kmip.TagInitIndicator, true))))
	if p1.Child(kmip.TagSignatureData) != nil {
		t.Fatal("a partial Sign must not sign yet")
	}
	p2 := mustOK(t, sendOne(t, s, alice, v14, batchItem(kmip.OperationSign, uidItem(priv), data([]byte("world")),
		kmip.Bytes(kmip.TagCorrelationValue, bytesOf(t, p1, kmip.TagCorrelationValue)), kmip.Bool(kmip.TagFinalIndicator, true))))
	if !bytes.Equal(bytesOf(t, p2, kmip.TagSignatureData), bytesOf(t, whole, kmip.TagSignatureData)) {
		t.Fatal("streamed signature differs")
	}
}
