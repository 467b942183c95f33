"""The official openai client against `peregrine serve` (tiny-llama fixture, served as "tiny").

Run by scripts/openai-integration-test; exits non-zero on the first failed check.
"""
import asyncio
import json
import sys
import urllib.request

import openai

base, key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base, api_key=key, max_retries=0)
aclient = openai.AsyncOpenAI(base_url=base, api_key=key, max_retries=0)
GREEDY = dict(model="tiny", temperature=0)


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")
    print(f"ok: {message}")


# API key
try:
    openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).models.list()
    check(False, "a wrong API key is refused")
except openai.AuthenticationError as error:
    check(error.status_code == 401, "a wrong API key gets 401")
check([m.id for m in client.models.list().data] == ["tiny"], "models.list names the served model")

# Completions, whole and streamed
whole = client.completions.create(prompt="Hello there", max_tokens=12, extra_body={"ignore_eos": True}, **GREEDY)
choice = whole.choices[0]
check(whole.object == "text_completion" and choice.finish_reason == "length", "completion finishes by length")
check(whole.usage.completion_tokens == 12 and whole.usage.prompt_tokens > 0, "completion usage counts tokens")
stream = client.completions.create(prompt="Hello there", max_tokens=12, stream=True, stream_options={"include_usage": True},
                                   extra_body={"ignore_eos": True}, **GREEDY)
chunks = list(stream)
streamed = "".join(c.choices[0].text for c in chunks if c.choices)
check(streamed == choice.text, "streamed completion equals the whole one")
check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 12, "stream ends with a usage chunk")

# n=2, logprobs, echo
two = client.completions.create(model="tiny", prompt="Once", max_tokens=6, n=2, temperature=1.0, seed=7)
check(sorted(c.index for c in two.choices) == [0, 1], "n=2 returns choices 0 and 1")
lp = client.completions.create(prompt="Once", max_tokens=5, logprobs=2, extra_body={"ignore_eos": True}, **GREEDY)
logprobs = lp.choices[0].logprobs
check(len(logprobs.tokens) == 5 and len(logprobs.token_logprobs) == 5, "logprobs has one entry per token")
check(all(len(top) <= 2 and len(top) >= 1 for top in logprobs.top_logprobs), "top_logprobs has up to 2 alternatives")
check(all(lp <= 0 for lp in logprobs.token_logprobs), "logprobs are not positive")

# Stop strings: stop at a piece of the greedy text
long = client.completions.create(prompt="The", max_tokens=40, extra_body={"ignore_eos": True}, **GREEDY).choices[0].text
start = next(i for i in range(len(long) // 3, len(long) - 2) if long[i:i + 3].isascii() and long[i:i + 3].strip())
stop = long[start:start + 3]
stopped = client.completions.create(prompt="The", max_tokens=40, stop=[stop], extra_body={"ignore_eos": True}, **GREEDY).choices[0]
check(stopped.finish_reason == "stop" and long.startswith(stopped.text) and stop not in stopped.text,
      f"stop string {stop!r} ends the completion before it")

# Token-id prompts equal their text
request = urllib.request.Request(base.replace("/v1", "") + "/tokenize", data=json.dumps({"prompt": "Hello there"}).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
ids = json.load(urllib.request.urlopen(request))["tokens"]
by_ids = client.completions.create(prompt=ids, max_tokens=12, extra_body={"ignore_eos": True}, **GREEDY)
check(by_ids.choices[0].text == choice.text and by_ids.usage.prompt_tokens == len(ids), "a token-id prompt equals its text")
batch = client.completions.create(prompt=[ids, ids[:2]], max_tokens=3, **GREEDY)
check(sorted(c.index for c in batch.choices) == [0, 1], "a list of token-id prompts gets one choice each")

# Chat, whole and streamed, with logprobs
messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
chat = client.chat.completions.create(messages=messages, max_tokens=10, logprobs=True, top_logprobs=2,
                                      extra_body={"ignore_eos": True}, **GREEDY)
check(chat.object == "chat.completion" and chat.choices[0].message.role == "assistant", "chat answers as the assistant")
check(len(chat.choices[0].logprobs.content) == 10, "chat logprobs has one entry per token")
parts = [c.choices[0].delta.content or "" for c in client.chat.completions.create(
    messages=messages, max_tokens=10, stream=True, extra_body={"ignore_eos": True}, **GREEDY) if c.choices]
check("".join(parts) == chat.choices[0].message.content, "streamed chat equals the whole one")
try:
    client.completions.create(prompt="Hi", max_tokens=100_000, **GREEDY)
    check(False, "max_tokens beyond the context is refused")
except openai.BadRequestError as error:
    check("256" in str(error), "max_tokens beyond the context gets 400 naming the limit")


# 32 concurrent streaming clients equal the same requests one at a time (greedy)
async def streamed_text(prompt):
    text = ""
    async for chunk in await aclient.completions.create(prompt=prompt, max_tokens=16, stream=True,
                                                        extra_body={"ignore_eos": True}, **GREEDY):
        if chunk.choices:
            text += chunk.choices[0].text
    return text


async def concurrent():
    prompts = [f"Story number {i} begins" for i in range(32)]
    sequential = [await streamed_text(p) for p in prompts]
    together = await asyncio.gather(*(streamed_text(p) for p in prompts))
    check(list(together) == sequential, "32 concurrent streams equal the same requests run one at a time")

asyncio.run(concurrent())
print("all openai client checks passed")
