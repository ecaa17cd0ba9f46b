-- wrk script: POST the small vetted query with the token from $SDE_TOKEN (see Benchmarks/http.sh).
wrk.method = "POST"
wrk.body = '{"parameters": {"from": "2024Q1", "to": "2024Q4", "la_code": "E06000001"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SDE_TOKEN")
