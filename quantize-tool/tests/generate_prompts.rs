//! `generate --stop` and `generate --prompts FILE` on the bundled tiny GPT: a stop string cuts
//! the text (streamed and JSON alike), and each line of a prompts file gives what a `--prompt` run
//! of its own gives.

mod common;

use common::*;
use serde_json::Value;

/// The generation fields of a `--json` line (timings differ from run to run).
fn fields(v: &Value) -> [Value; 4] {
    ["prompt_ids", "ids", "text", "stop"].map(|k| v[k].clone())
}

fn json_line(out: &str) -> Value {
    serde_json::from_str(out.trim_end()).unwrap()
}

#[test]
fn a_stop_string_cuts_the_text() {
    let base = ["generate", "--prompt", "Call me", "--max-tokens", "24"];
    let full = json_line(&ok(run(&[&base[..], &["--json"]].concat())));
    let text = full["text"].as_str().unwrap().to_string();
    // a stop string from the middle of the greedy text (whole characters)
    let chars: Vec<char> = text.chars().collect();
    assert!(chars.len() > 12, "{text:?}");
    let stop: String = chars[8..11].iter().collect();
    let want = &text[..text.find(&stop).unwrap()];

    let cut = json_line(&ok(run(&[&base[..], &["--json", "--stop", &stop]].concat())));
    assert_eq!(cut["text"].as_str().unwrap(), want);
    assert_eq!(cut["stop"], "stop_text");
    let ids = |v: &Value| v["ids"].as_array().unwrap().len();
    assert!(ids(&cut) < ids(&full), "{cut} {full}");
    // streamed: the same text, nothing of the stop string printed, then a newline
    let streamed = ok(run(&[&base[..], &["--stop", &stop, "--stop", "never in this text"]].concat()));
    assert_eq!(streamed, format!("{want}\n"));
    // a stop string that does not occur changes nothing
    let same = json_line(&ok(run(&[&base[..], &["--json", "--stop", "\u{1F600}\u{1F600}"]].concat())));
    assert_eq!(fields(&same), fields(&full));

    fails(&run(&[&base[..], &["--stop", ""]].concat()), 2, &["--stop", "the stop string is empty"]);
}

#[test]
fn each_prompt_of_a_file_is_its_own_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prompts.jsonl");
    let lines = [
        r#"{"prompt": "Call me", "seed": 7}"#,
        "",
        r#""Once upon a time\nthere""#,
        r#"{"prompt": "x", "temperature": 2}"#,
        r#"{"prompt": "The end", "seed": 7}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let sampling = ["--temperature", "0.8", "--top-p", "0.9", "--max-tokens", "12"];
    let args = [&["generate", "--prompts", file.to_str().unwrap(), "--seed", "3"][..], &sampling].concat();
    let o = run(&args);
    let err = fails(&o, 1, &["prompts.jsonl:4:", "unknown field `temperature`"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    let got: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), 4, "one line per non-blank input line");
    assert!(got[2]["error"].as_str().unwrap().contains("unknown field `temperature`"));

    // the same as --prompt runs, with the line's seed or else --seed
    for (g, (prompt, seed)) in [&got[0], &got[1], &got[3]].into_iter().zip([
        ("Call me", "7"),
        ("Once upon a time\nthere", "3"),
        ("The end", "7"),
    ]) {
        let one = [&["generate", "--prompt", prompt, "--json"][..], &sampling, &["--seed", seed]].concat();
        assert_eq!(fields(g), fields(&json_line(&ok(run(&one)))), "{prompt:?}");
    }
    assert_ne!(got[0]["ids"], got[3]["ids"]);
}

#[test]
fn prompt_and_prompts_exclude_each_other() {
    fails(&run(&["generate"]), 2, &["--prompt"]);
    fails(
        &run(&["generate", "--prompt", "a", "--prompts", "p.jsonl"]),
        2,
        &["--prompts", "cannot be used with"],
    );
    fails(&run(&["generate", "--prompts", "no/such/file.jsonl"]), 1, &["no/such/file.jsonl", "cannot read"]);
}
