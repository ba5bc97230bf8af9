package domain

// objectAttrRules are the rules of the attributes the server derives from a
// managed object's content when it is registered: certificate attributes
// (KMIP 1.4 §3.8-3.16, KMIP 2.1 §4.6) and Key Value Present / Location
// (1.4 §3.41-3.42). They join attrRules where that table has no rule of its
// own for the name.
var objectAttrRules = map[string]AttrRule{
	"Certificate Type":             {},
	"Certificate Length":           {SinceMajor: 1, SinceMinor: 1},
	"X.509 Certificate Identifier": {SinceMajor: 1, SinceMinor: 1},
	"X.509 Certificate Subject":    {SinceMajor: 1, SinceMinor: 1},
	"X.509 Certificate Issuer":     {SinceMajor: 1, SinceMinor: 1},
	"Certificate Identifier":       {RemovedIn: 2},
	"Certificate Subject":          {RemovedIn: 2},
	"Certificate Issuer":           {RemovedIn: 2},
	"Digital Signature Algorithm":  {Multi: true, SinceMajor: 1, SinceMinor: 1},
	"Key Value Present":            {SinceMajor: 1, SinceMinor: 2},
	"Key Value Location":           {Multi: true, ClientSets: true, ClientModifies: true, ClientDeletes: true, SinceMajor: 1, SinceMinor: 2},
}

// certificateAttributeNames are the KMIP 2.x Certificate Attributes (2.1
// §4.6): read-only, set by the server from the certificate.
var certificateAttributeNames = []string{"CN", "O", "OU", "Email", "C", "ST", "L", "UID", "Serial Number", "Title", "DC", "DN Qualifier"}

func init() {
	for _, n := range certificateAttributeNames {
		for _, who := range []string{"Certificate Subject ", "Certificate Issuer "} {
			objectAttrRules[who+n] = AttrRule{Multi: true, SinceMajor: 2}
		}
	}
	for name, r := range objectAttrRules {
		if _, ok := attrRules[name]; !ok {
			attrRules[name] = r
		}
	}
}
