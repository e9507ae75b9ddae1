"""``xpnet serve``: a local web page to draw a digit on and watch the network think.

The page shows, live, every quantity of the tutorial's forward pass: the 28×28 input X,
each hidden layer's activations ``A_l = g(W_l·A_{l−1} + b_l)``, the softmax probabilities
``A_L = softmax(W_L·A_{L−1} + b_L)`` and the first layer's weights ``W1`` as 28×28 images.

Pieces
------
[`xpnet.serve.inference`][xpnet.serve.inference]
    [`Inspector`][xpnet.serve.inference.Inspector]: a loaded checkpoint that decodes uploaded
    images and returns every layer's activations. Plain xpnet + NumPy + Pillow.

[`xpnet.serve.app`][xpnet.serve.app]
:   [`create_app`][xpnet.serve.app.create_app]: the Starlette application (``GET /``, ``POST
    /api/predict``, ``GET /api/model``, ``GET /api/weights.png``).

[`xpnet.serve.server`][xpnet.serve.server]
:   Running it with uvicorn, in the foreground (the CLI) or in a background thread (tests,
    notebooks).

[`xpnet.serve.command`][xpnet.serve.command]
:   The ``xpnet serve`` click command.

The web packages are an optional extra (``pip install 'xpnet[serve]'``): importing this
package does not import them; [`xpnet.serve.app`][xpnet.serve.app] and [`xpnet.serve.server`][xpnet.serve.server] do.
"""

__all__ = ["SERVE_EXTRA_HINT"]

#: What to tell someone who runs ``xpnet serve`` without the web packages.
SERVE_EXTRA_HINT = "xpnet serve needs the optional web packages (Starlette and uvicorn): pip install 'xpnet[serve]'"
