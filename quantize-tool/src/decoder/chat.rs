//! The chat template of a checkpoint (Jinja, from `tokenizer_config.json`, `chat_template.jinja`
//! or the GGUF's `tokenizer.chat_template`), rendered once at conversion time for a single user
//! message with the generation prompt, and split around that message: the blob stores the text
//! before it and after it (section `tokenizer.chat`: prefix, a NUL byte, suffix), so that a
//! device wraps a prompt without a template engine.

use anyhow::{bail, Context, Result};
use minijinja::{context, Environment, Error, ErrorKind};

/// Stands for the user's message while rendering (a private-use character no template emits).
const MESSAGE: &str = "\u{F8FF}";

/// Name of the blob section holding `prefix \0 suffix`.
pub const SECTION: &str = "tokenizer.chat";

/// `(prefix, suffix)`: the template's rendering of one user message and the generation prompt,
/// split around the message.
pub fn prefix_suffix(template: &str, bos: &str, eos: &str) -> Result<(String, String)> {
    let mut env = Environment::new();
    env.add_function("raise_exception", |msg: String| -> Result<String, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, msg))
    });
    env.add_template("chat", template).context("parsing the chat template")?;
    let messages = vec![context! { role => "user", content => MESSAGE }];
    let text = env
        .get_template("chat")?
        .render(context! { messages, add_generation_prompt => true, bos_token => bos, eos_token => eos })
        .context("rendering the chat template for one user message")?;
    let Some((prefix, suffix)) = text.split_once(MESSAGE) else {
        bail!("the chat template does not show the user's message");
    };
    if prefix.contains('\0') || suffix.contains('\0') || suffix.contains(MESSAGE) {
        bail!("the chat template repeats the message or renders a NUL byte");
    }
    Ok((prefix.to_string(), suffix.to_string()))
}

/// The section bytes of `(prefix, suffix)`.
pub fn section_bytes(prefix: &str, suffix: &str) -> Vec<u8> {
    [prefix.as_bytes(), b"\0", suffix.as_bytes()].concat()
}
