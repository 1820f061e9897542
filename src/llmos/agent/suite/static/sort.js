// Reorders a list in place when a "sort by" select changes: the page's element
// order changes without a reload, as on many real result pages.
document.querySelectorAll("select[data-sort-target]").forEach(function (select) {
  select.addEventListener("change", function () {
    var list = document.querySelector(select.dataset.sortTarget);
    var key = select.value.split(":")[0], desc = select.value.endsWith(":desc");
    var items = Array.from(list.children);
    items.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key];
      var nx = parseFloat(x), ny = parseFloat(y);
      var cmp = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return desc ? -cmp : cmp;
    });
    items.forEach(function (item) { list.appendChild(item); });
  });
});
