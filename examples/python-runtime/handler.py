def greet(event, context):
    print("python handler got", event, flush=True)
    return {"message": "Hello, %s, from a Python runtime" % event.get("name", "world"), "requestId": context["aws_request_id"]}
