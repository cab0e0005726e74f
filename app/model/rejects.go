package model

import "strings"

// rejectKeys translate the stable reasons an import gives a refused row.
var rejectKeys = map[string]string{
	"csv.bad_quote":             "contacts.reject.csv.bad_quote",
	"csv.unterminated_quote":    "contacts.reject.csv.unterminated_quote",
	"csv.too_many_fields":       "contacts.reject.csv.too_many_fields",
	"csv.line_too_long":         "contacts.reject.csv.line_too_long",
	"csv.bad_opt_out":           "contacts.reject.csv.bad_opt_out",
	"phone.empty":               "contacts.reject.phone.empty",
	"phone.too_short":           "contacts.reject.phone.too_short",
	"phone.too_long":            "contacts.reject.phone.too_long",
	"phone.not_a_number":        "contacts.reject.phone.not_a_number",
	"phone.invalid_for_country": "contacts.reject.phone.invalid_for_country",
	"phone.unknown_country":     "contacts.reject.phone.unknown_country",
	"phone.invalid":             "contacts.reject.phone.invalid",
	"invalid_email":             "contacts.reject.invalid_email",
	"no_name_or_phone":          "contacts.reject.no_name_or_phone",
	"unknown_owner":             "contacts.reject.unknown_owner",
	"name_long":                 "contacts.reject.name_long",
	"duplicate_phone_in_file":   "contacts.reject.duplicate_phone_in_file",
	"bad_" + FieldText:          "contacts.reject.bad_text",
	"bad_" + FieldNumber:        "contacts.reject.bad_number",
	"bad_" + FieldDate:          "contacts.reject.bad_date",
	"bad_" + FieldChoice:        "contacts.reject.bad_choice",
	"bad_quote":                 "contacts.reject.csv.bad_quote",
	"unterminated_quote":        "contacts.reject.csv.unterminated_quote",
	"too_many_fields":           "contacts.reject.csv.too_many_fields",
	"line_too_long":             "contacts.reject.csv.line_too_long",
	"bad_opt_out":               "contacts.reject.csv.bad_opt_out",
}

// RejectKey maps a rejected row's reason code to its i18n key and the key's arguments:
// "phone.too_short" → contacts.reject.phone.too_short; "bad_date:birthday" →
// contacts.reject.bad_date with {field} = the field's label; an unknown phone reason is
// an invalid phone; anything else is contacts.reject.unknown with {code}.
func RejectKey(code string, fields []ContactField) (key string, args []string) {
	base, fieldKey, hasField := strings.Cut(code, ":")
	if k, ok := rejectKeys[base]; ok {
		if hasField {
			return k, []string{"field", fieldLabelOf(fields, fieldKey)}
		}
		if strings.HasPrefix(k, "contacts.reject.bad_") {
			return k, []string{"field", "?"}
		}
		return k, nil
	}
	if strings.HasPrefix(code, "phone.") {
		return "contacts.reject.phone.invalid", nil
	}
	return "contacts.reject.unknown", []string{"code", code}
}

// fieldLabelOf is the label of the custom field key, or the key when there is none.
func fieldLabelOf(fields []ContactField, key string) string {
	for _, f := range fields {
		if f.Key == key {
			return f.Label
		}
	}
	return key
}
