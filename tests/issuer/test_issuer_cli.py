"""``microcred issuer …`` through click's CliRunner (no ledger: anchors stay pending, exit 3)."""

from __future__ import annotations

import csv
import json
import stat

import pytest
from _issuer_support import jwk_cell, make_csv, make_row
from click.testing import CliRunner

from credentials.jose import PrivateKey
from credentials.sd_jwt_vc import verify_sd_jwt_vc
from issuer.archive import Archive
from issuer.cli import EXIT_ANCHOR_PENDING, EXIT_REFUSED
from issuer.identity import load_issuer
from microcred.cli import main


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def initialised(runner, data_dir):
    result = runner.invoke(main, ["issuer", "init", "uni", "--country", "IT", "--legal-name", "Università di Prova"])
    assert result.exit_code == 0, result.output
    return load_issuer(data_dir, "uni")


def test_help_lists_the_commands(runner):
    result = runner.invoke(main, ["issuer", "--help"])
    assert result.exit_code == 0
    for name in ("init", "issue", "revoke", "suspend", "reinstate", "publish", "reissue", "serve", "list"):
        assert name in result.output


def test_init_prints_the_did_and_the_accreditation_command(runner, initialised):
    home = initialised
    assert stat.S_IMODE(home.signing_key_path.stat().st_mode) == 0o600
    again = runner.invoke(main, ["issuer", "init", "uni", "--country", "IT", "--legal-name", "X"])
    assert again.exit_code == EXIT_REFUSED
    assert "already exists" in again.output
    bad = runner.invoke(main, ["issuer", "init", "other", "--country", "ZZ", "--legal-name", "X"])
    assert bad.exit_code == EXIT_REFUSED
    assert "'ZZ' is not an ISO 3166-1 alpha-2 code" in bad.output


def test_issue_writes_files_and_a_manifest_and_says_the_anchor_is_pending(runner, initialised, tmp_path):
    holder = PrivateKey.generate()
    source = tmp_path / "export.csv"
    source.write_text(make_csv([make_row(1, holder_jwk=jwk_cell(holder)), make_row(2)]), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(main, ["issuer", "issue", "--from", str(source), "--out", str(out)])
    assert result.exit_code == EXIT_ANCHOR_PENDING, result.output
    assert "2 credential(s), 1 signed file(s), 1 offer(s)" in result.output
    assert "NOT anchored" in result.output
    assert "microcred issuer publish" in result.output
    rows = list(csv.DictReader((out / "manifest.csv").open(encoding="utf-8")))
    assert [r["student_id"] for r in rows] == ["S00001", "S00002"]
    sd_jwt = (out / rows[0]["file"]).read_text().strip()
    assert verify_sd_jwt_vc(sd_jwt, now=10**10 - 1, key_binding=None).holder_jwk == holder.public_key().to_jwk()
    assert rows[1]["offer_uri"].startswith("openid-credential-offer://?credential_offer_uri=")


def test_bad_rows_are_all_listed_and_nothing_is_signed(runner, initialised, tmp_path):
    source = tmp_path / "export.csv"
    source.write_text(make_csv([make_row(1, ects="60"), make_row(2, title=""), make_row(1)]), encoding="utf-8")
    result = runner.invoke(main, ["issuer", "issue", "--from", str(source)])
    assert result.exit_code == EXIT_REFUSED
    assert "3 problem(s) found; nothing was signed" in result.output
    assert "row 2: ects: 60 is not less than 60" in result.output
    assert "row 3: title: missing" in result.output
    assert "row 4: learner.student_id: 'S00001' is already on row 2" in result.output
    assert Archive(initialised.archive_path).credentials() == []
    assert not (initialised.path / "batches").exists() or not any((initialised.path / "batches").iterdir())


def test_unknown_columns_are_refused(runner, initialised, tmp_path):
    source = tmp_path / "export.csv"
    source.write_text(make_csv([make_row(1, email="a@example.org")]), encoding="utf-8")
    result = runner.invoke(main, ["issuer", "issue", "--from", str(source)])
    assert result.exit_code == EXIT_REFUSED
    assert "unknown column(s) 'email'" in result.output


def test_a_thousand_row_csv(runner, initialised, tmp_path):
    source = tmp_path / "course.csv"
    holders = [PrivateKey.generate() for _ in range(10)]
    rows = [make_row(i, holder_jwk=jwk_cell(holders[i % 10])) if i % 2 else make_row(i) for i in range(1000)]
    source.write_text(make_csv(rows), encoding="utf-8")
    result = runner.invoke(main, ["issuer", "issue", "--from", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code == EXIT_ANCHOR_PENDING, result.output
    assert "1000 credential(s), 500 signed file(s), 500 offer(s)" in result.output
    assert "Signing" in result.output  # the progress bar, fed as signed chunks come back
    archive = Archive(initialised.archive_path)
    assert archive.count_credentials()["valid"] == 1000
    assert len({(r.list_id, r.idx) for r in archive.credentials(limit=2000)}) == 1000
    assert len(list((tmp_path / "out").glob("*.sd-jwt"))) == 500


def test_revoke_suspend_reinstate_and_list(runner, initialised, tmp_path):
    source = tmp_path / "export.csv"
    source.write_text(make_csv([make_row(1), make_row(2)]), encoding="utf-8")
    runner.invoke(main, ["issuer", "issue", "--from", str(source)])
    ids = [r.id for r in Archive(initialised.archive_path).credentials()]
    revoked = runner.invoke(main, ["issuer", "revoke", *ids])
    assert revoked.exit_code == EXIT_ANCHOR_PENDING
    assert "NOT anchored" in revoked.output
    again = runner.invoke(main, ["issuer", "revoke", ids[0], "nope"])
    assert again.exit_code == EXIT_REFUSED
    assert "nothing was changed" in again.output
    assert "no credential with id 'nope'" in again.output
    listing = runner.invoke(main, ["issuer", "list"])
    assert listing.exit_code == 0
    assert listing.output.count("revoked") == 2
    lists = runner.invoke(main, ["issuer", "lists"])
    assert "PENDING" in lists.output
    assert "version 2" in lists.output
    publish = runner.invoke(main, ["issuer", "publish"])
    assert publish.exit_code == EXIT_ANCHOR_PENDING


def test_reissue_to_a_new_key(runner, initialised, tmp_path):
    source = tmp_path / "export.csv"
    source.write_text(make_csv([make_row(1, holder_jwk=jwk_cell(PrivateKey.generate()))]), encoding="utf-8")
    runner.invoke(main, ["issuer", "issue", "--from", str(source)])
    old_id = Archive(initialised.archive_path).credentials()[0].id
    key_file = tmp_path / "new.jwk"
    new_key = PrivateKey.generate()
    key_file.write_text(json.dumps(new_key.public_key().to_jwk()), encoding="utf-8")
    out = tmp_path / "new.sd-jwt"
    result = runner.invoke(main, ["issuer", "reissue", old_id, "--holder-jwk", str(key_file), "--out", str(out)])
    assert result.exit_code == EXIT_ANCHOR_PENDING, result.output
    assert f"revoked {old_id}; re-issued as" in result.output
    verified = verify_sd_jwt_vc(out.read_text().strip(), now=10**10 - 1, key_binding=None)
    assert verified.holder_jwk == new_key.public_key().to_jwk()


def test_the_missing_issuer_message_shows_where_the_option_goes(runner, data_dir):
    """`--issuer` belongs to the `issuer` group, before the subcommand: the message shows it there.

    Before: "expected --issuer NAME", which a newcomer put after the subcommand (`issuer list
    --issuer uni`: "No such option"); and with no issuer at all it did not say how to make one.
    """
    none = runner.invoke(main, ["issuer", "list"])
    assert none.exit_code == 2
    assert "no issuer yet under" in none.output
    assert "microcred issuer init NAME" in none.output
    for name in ("uni", "other"):
        assert runner.invoke(main, ["issuer", "init", name, "--country", "IT", "--legal-name", "U"]).exit_code == 0
    several = runner.invoke(main, ["issuer", "list"])
    assert "issuer --issuer NAME list" in several.output
    assert "MICROCRED_ISSUER=NAME" in several.output
    staff = runner.invoke(main, ["issuer", "staff", "list"])
    assert "issuer --issuer NAME staff list" in staff.output


def test_which_issuer_must_be_said_when_there_are_several(runner, initialised, data_dir):
    runner.invoke(main, ["issuer", "init", "other", "--country", "FR", "--legal-name", "Autre"])
    result = runner.invoke(main, ["issuer", "list"])
    assert result.exit_code == 2
    assert "several issuers under" in result.output
    staff = runner.invoke(main, ["issuer", "staff", "list"])
    assert "several issuers under" in staff.output
    assert runner.invoke(main, ["issuer", "--issuer", "other", "list"]).exit_code == 0
    missing = runner.invoke(main, ["issuer", "--issuer", "ghost", "list"])
    assert missing.exit_code == EXIT_REFUSED
    assert "no issuer 'ghost'" in missing.output


def test_columns_names_the_required_ones_in_plain_text(runner):
    """`issuer columns` says which columns every row needs, without the docstring's reST markup.

    Before: it printed issuer.batch's module docstring as is (":data:`CSV_COLUMNS`",
    ":func:`batch_digest`", ``double backquotes``) and never said which columns are required,
    so a newcomer's first CSV came back with six "missing" problems.
    """
    result = runner.invoke(main, ["issuer", "columns"])
    assert result.exit_code == 0
    assert ":data:`" not in result.output
    assert "``" not in result.output
    required = " ".join(result.output.split("Required in every row:")[1].split(";")[0].split())
    for column in ("learner.birth_date", "learner.student_id", "assessment_type", "participation",
                   "quality_assurance", "ects", "eqf_level", "title", "learning_outcomes"):
        assert column in required
    assert "issued_on" not in required  # it has a default
    assert "qf_ehea_cycle" in result.output.split("Required in every row:")[1]


def test_help_lists_every_exit_code_the_readme_names(runner):
    """Before: `microcred issuer --help` stopped at 3; the README and the code also use 4 and 130."""
    text = " ".join(runner.invoke(main, ["issuer", "--help"]).output.split())
    for code in ("0 done", "1 refused", "2 bad usage", "3 saved but not yet anchored", "4 ", "130 interrupted"):
        assert code in text
