package csvimport

import (
	"errors"
	"reflect"
	"testing"
)

func TestGuessMapping(t *testing.T) {
	custom := []CustomField{{Key: "data_nascimento", Label: "Data de nascimento"}, {Key: "cpf", Label: "CPF"}, {Key: "empresa", Label: "Empresa"}}
	cases := []struct {
		name   string
		header []string
		want   Mapping
	}{
		{"Portuguese", []string{"Nome", "Telefone", "E-mail", "Etiquetas"},
			Mapping{"name", "phone", "email", "tags"}},
		{"English", []string{"Full Name", "Phone", "Email", "Tags", "Owner", "Unsubscribed"},
			Mapping{"name", "phone", "email", "tags", "owner", "opt_out"}},
		{"accents and case", []string{"NOME COMPLETO", "Número", "Correio Eletrônico", "Responsável", "Descadastrado"},
			Mapping{"name", "phone", "email", "owner", "opt_out"}},
		{"first and last names", []string{"Primeiro nome", "Sobrenome", "Celular"},
			Mapping{"first_name", "last_name", "phone"}},
		{"Nome with Sobrenome is a first name", []string{"Nome", "Sobrenome", "WhatsApp"},
			Mapping{"first_name", "last_name", "phone"}},
		{"English first and last", []string{"First Name", "Last Name", "Mobile", "E-mail Address"},
			Mapping{"first_name", "last_name", "phone", "email"}},
		{"Google Contacts export", []string{"Name", "Given Name", "Family Name", "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value", "Phone 2 - Value", "Labels"},
			Mapping{"name", "first_name", "last_name", "email", "", "phone", "", "tags"}},
		{"punctuation and spaces", []string{" tel. ", "fone:", "e_mail", "opt-out", "dono"},
			Mapping{"phone", "", "email", "opt_out", "owner"}},
		{"only the first column per field, tags merged", []string{"Telefone", "Celular", "Tags", "Marcadores", "Nome", "Name"},
			Mapping{"phone", "", "tags", "tags", "name", ""}},
		{"a vague name loses to a clear one", []string{"Endereço", "Número", "Bairro", "Telefone"},
			Mapping{"", "", "", "phone"}},
		{"custom fields by key and by label", []string{"Nome", "data_nascimento", "CPF", "Empresa 1", "Cidade"},
			Mapping{"name", "custom:data_nascimento", "custom:cpf", "custom:empresa", ""}},
		{"custom label with accents", []string{"Celular", "DATA DE NASCIMENTO"},
			Mapping{"phone", "custom:data_nascimento"}},
		{"unknown and empty headers ignored", []string{"", "Foo", "telefone 2", "Observações"},
			Mapping{"", "", "phone", ""}},
		{"more Portuguese", []string{"Nome do contato", "Fone", "Marcadores", "Proprietário", "Opt out"},
			Mapping{"name", "phone", "tags", "owner", "opt_out"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := GuessMapping(c.header, custom); !reflect.DeepEqual(got, c.want) {
				t.Errorf("GuessMapping(%q) =\n %q\nwant\n %q", c.header, got, c.want)
			}
		})
	}
}

func TestGuessMappingPrefersBuiltins(t *testing.T) {
	// A custom field called "Telefone" does not take the main phone column.
	m := GuessMapping([]string{"Telefone", "Telefone fixo"}, []CustomField{{Key: "telefone_fixo", Label: "Telefone fixo"}, {Key: "telefone", Label: "Telefone"}})
	if want := (Mapping{"phone", "custom:telefone_fixo"}); !reflect.DeepEqual(m, want) {
		t.Errorf("got %q; want %q", m, want)
	}
}

func TestApply(t *testing.T) {
	m := Mapping{"name", "first_name", "last_name", "phone", "email", "tags", "tags", "owner", "opt_out", "custom:cpf", ""}
	row, err := m.Apply([]string{"", " João ", "Silva", " (11) 98765-4321 ", "joao@example.com ",
		"VIP, cliente; lead|vip", " Cliente , novo", "ana@example.com", "Sim", "123.456.789-00", "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	want := Row{
		Name: "João Silva", Phone: "(11) 98765-4321", Email: "joao@example.com",
		Tags: []string{"VIP", "cliente", "lead", "novo"}, OwnerEmail: "ana@example.com",
		OptOut: &yes, Custom: map[string]string{"cpf": "123.456.789-00"},
	}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("Apply =\n %+v\nwant\n %+v", row, want)
	}

	// A name column with a value wins over first and last names; blanks are left out.
	row, err = m.Apply([]string{"Ana Souza", "Ana", "Souza", "", "", "", "", "", "", ""})
	if err != nil || row.Name != "Ana Souza" || row.Tags != nil || row.OptOut != nil || row.Custom != nil {
		t.Errorf("Apply = %+v, %v", row, err)
	}
	// Fewer fields than columns.
	if row, err := (Mapping{"phone", "name"}).Apply([]string{"11"}); err != nil || row.Phone != "11" || row.Name != "" {
		t.Errorf("short: %+v, %v", row, err)
	}
}

func TestApplyOptOut(t *testing.T) {
	m := Mapping{"opt_out"}
	for v, want := range map[string]bool{"sim": true, "SIM": true, "s": true, "yes": true, "Y": true, "true": true, "1": true, "x": true, "X": true, "verdadeiro": true,
		"não": false, "Nao": false, "NÃO": false, "n": false, "no": false, "false": false, "0": false, "falso": false} {
		row, err := m.Apply([]string{v})
		if err != nil || row.OptOut == nil || *row.OptOut != want {
			t.Errorf("opt-out %q: %+v, %v; want %v", v, row.OptOut, err, want)
		}
	}
	if row, err := m.Apply([]string{"  "}); err != nil || row.OptOut != nil {
		t.Errorf("blank opt-out: %+v, %v", row.OptOut, err)
	}
	for _, v := range []string{"talvez", "2", "yes please"} {
		_, err := m.Apply([]string{v})
		var re *RowError
		if !errors.As(err, &re) || re.Reason != ReasonBadOptOut {
			t.Errorf("opt-out %q: %v; want %s", v, err, ReasonBadOptOut)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		m      Mapping
		reason string
	}{
		{Mapping{"phone"}, ""},
		{Mapping{"", "name", "email"}, ""},
		{Mapping{"first_name", "tags", "tags"}, ""},
		{Mapping{"last_name", "custom:data_nascimento"}, ""},
		{Mapping{"email", "tags", ""}, ReasonNoPhoneOrName},
		{Mapping{}, ReasonNoPhoneOrName},
		{Mapping{"phone", "phone"}, ReasonDuplicateTarget},
		{Mapping{"phone", "custom:cpf", "custom:cpf"}, ReasonDuplicateTarget},
		{Mapping{"phone", "address"}, ReasonUnknownTarget},
		{Mapping{"phone", "custom:"}, ReasonUnknownTarget},
		{Mapping{"phone", "custom:Bad Key"}, ReasonUnknownTarget},
	}
	for _, c := range cases {
		err := c.m.Validate()
		var me *MappingError
		switch {
		case c.reason == "" && err != nil:
			t.Errorf("%q: %v", c.m, err)
		case c.reason != "" && (!errors.As(err, &me) || me.Reason != c.reason):
			t.Errorf("%q: %v; want %s", c.m, err, c.reason)
		}
	}
}
