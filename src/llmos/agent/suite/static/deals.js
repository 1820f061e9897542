// Today's deals arrive after the page loads and then rotate (the first deal moves
// to the end) every data-rotate-ms milliseconds: element order keeps changing,
// so an agent that clicks by a stale element number would hit the wrong deal.
(function () {
  var script = document.currentScript;
  var rotateMs = parseInt(script.dataset.rotateMs || "0", 10);
  var items = JSON.parse(document.getElementById("deals-data").textContent);
  var list = document.getElementById("deals");
  function euros(cents) { return "€" + Math.floor(cents / 100) + "." + String(cents % 100).padStart(2, "0"); }
  setTimeout(function () {
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "card";
      li.innerHTML = '<a></a>, <span></span>' +
        '<form action="/shop/cart/add" method="post"><input type="hidden" name="slug">' +
        '<input type="hidden" name="qty" value="1"><button type="submit">Add to cart</button></form>';
      li.querySelector("a").textContent = item.name;
      li.querySelector("a").href = "/shop/product/" + item.slug;
      li.querySelector("span").textContent = euros(item.price) + " today";
      li.querySelector("input[name=slug]").value = item.slug;
      li.querySelector("button").setAttribute("aria-label", "Add " + item.name + " to cart, " + euros(item.price));
      list.appendChild(li);
    });
    document.getElementById("deals-status").textContent = items.length + " deals today.";
    if (rotateMs > 0) {
      setInterval(function () { list.appendChild(list.firstElementChild); }, rotateMs);
    }
  }, 300);
})();
