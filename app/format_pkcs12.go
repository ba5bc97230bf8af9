package app

import (
	"context"

	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// maxChain bounds how many PKCS#12 Certificate Links a chain may follow.
const maxChain = 10

// pkcs12KeyBlock builds the Key Block of a private key returned in PKCS#12
// format (KMIP 1.4 §9.1.3.2.3, Link Types PKCS#12 Certificate Link and
// PKCS#12 Password Link, §3.35): the key, the certificate its PKCS#12
// Certificate Link names and that certificate's chain of PKCS#12
// Certificate Links, encrypted under the password of the Secret Data its
// PKCS#12 Password Link names (no password when there is no such link); the
// crypto engine encodes it (ports.PKCS12Encoder). As in the OASIS case TC-PKCS12-1-14
// the Key Value is the PFX itself, a Byte String.
func (s *Service) pkcs12KeyBlock(ctx context.Context, c *call, obj *domain.Object) (*kmip.Item, error) {
	unsupported := func(format string, args ...any) (*kmip.Item, error) {
		return nil, errorf(kmip.ResultReasonKeyFormatTypeNotSupported, format, args...)
	}
	if kmip.ObjectType(obj.Type) != kmip.ObjectTypePrivateKey {
		return unsupported("only private keys are returned as PKCS#12")
	}
	kb := obj.Payload.Child(kmip.TagKeyBlock)
	if kb.Child(kmip.TagKeyWrappingData) != nil || kb.Child(kmip.TagKeyValue) == nil {
		return unsupported("the key is wrapped or has no key value")
	}
	enc, err := capability[ports.PKCS12Encoder](s)
	if err != nil {
		return unsupported("the crypto engine cannot encode PKCS#12")
	}
	key, err := keyHandle(obj)
	if err != nil {
		return unsupported("the key cannot be put in PKCS#12")
	}

	var chain [][]byte
	seen := map[string]bool{obj.ID: true}
	for next := linked(obj, kmip.LinkTypePKCS_12CertificateLink); next != "" && len(chain) < maxChain; {
		if seen[next] {
			break
		}
		seen[next] = true
		cobj, err := s.linkedObject(ctx, c, next, kmip.ObjectTypeCertificate)
		if err != nil {
			return nil, err
		}
		der, _ := cobj.Payload.Child(kmip.TagCertificateValue).AsBytes()
		chain = append(chain, der)
		next = linked(cobj, kmip.LinkTypePKCS_12CertificateLink)
	}
	if len(chain) == 0 {
		return unsupported("PKCS#12 needs a certificate: the key has no PKCS#12 Certificate Link")
	}
	password := ""
	if id := linked(obj, kmip.LinkTypePKCS_12PasswordLink); id != "" {
		pw, err := s.linkedObject(ctx, c, id, kmip.ObjectTypeSecretData)
		if err != nil {
			return nil, err
		}
		b, ok := pw.Payload.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if !ok {
			return unsupported("the PKCS#12 password is not readable")
		}
		password = string(b)
	}
	pfx, err := enc.EncodePKCS12(ctx, key, chain, password)
	if err != nil {
		return unsupported("the key and its certificates cannot be put in PKCS#12")
	}
	return kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypePKCS_12)),
		kmip.Bytes(kmip.TagKeyValue, pfx)), nil
}

// linked returns the identifier the object's first Link of type lt names.
func linked(obj *domain.Object, lt kmip.LinkType) string {
	for _, l := range obj.AttrValuesOf(kmip.TagLink) {
		if v, _ := l.Child(kmip.TagLinkType).AsEnum(); kmip.LinkType(v) == lt {
			id, _ := l.Child(kmip.TagLinkedObjectIdentifier).AsText()
			return id
		}
	}
	return ""
}

// linkedObject loads a linked object the caller may Get, of type t.
func (s *Service) linkedObject(ctx context.Context, c *call, id string, t kmip.ObjectType) (*domain.Object, error) {
	obj, err := s.loadAs(ctx, c, id, kmip.OperationGet)
	if err != nil {
		return nil, err
	}
	if kmip.ObjectType(obj.Type) != t || obj.Payload == nil {
		return nil, errorf(kmip.ResultReasonKeyFormatTypeNotSupported, "linked object %s is not a %s", id, t)
	}
	return obj, nil
}
